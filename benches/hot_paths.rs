//! Criterion benches of the hot pieces: demo generation, day ingest into Parquet, rendering.
//! Run with `cargo bench --bench hot_paths`.

use std::collections::BTreeMap;

use carto_activity::cache::Cache;
use carto_activity::cache::writer::CacheWriter;
use carto_activity::category::Category;
use carto_activity::dates::parse_date;
use carto_activity::output::render_table;
use carto_activity::source::RowSink;
use carto_activity::source::demo::{DEFAULT_SEED, DemoOrg};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn demo_and_ingest(c: &mut Criterion) {
    let org = DemoOrg::new(DEFAULT_SEED, 20_000);
    let day = parse_date("2025-10-01").expect("valid date");
    let batch = org.activity(day).expect("a demo day");
    let mut group = c.benchmark_group("demo_day");
    group.throughput(Throughput::Elements(batch.num_rows() as u64));
    group.sample_size(10);
    group.bench_function("generate_activity", |b| b.iter(|| org.activity(day).expect("a demo day")));
    group.bench_function("ingest_activity_parquet", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let cache = Cache::locate(Some(dir.path().to_path_buf())).expect("a cache");
            let source = cache.source("bench");
            let mut writer = CacheWriter::new(source, BTreeMap::from([(Category::Activity, vec![day])]));
            writer.write_dated(Category::Activity, &batch).expect("written");
            writer.commit().expect("committed")
        })
    });
    group.finish();
    let head = batch.slice(0, 40);
    c.bench_function("render_table_40_rows", |b| b.iter(|| render_table(&head.schema(), std::slice::from_ref(&head))));
}

criterion_group!(benches, demo_and_ingest);
criterion_main!(benches);
