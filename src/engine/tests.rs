//! The engine's own tests, and the demo engine other modules' tests use.

use super::*;

fn options() -> EngineOptions {
    EngineOptions::new(1, true)
}

/// An engine over one cached demo day of `events_per_day` (the folder lives as long as it).
pub(crate) fn demo_day_engine(events_per_day: u32) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let cache = crate::cache::Cache::locate(Some(dir.path().to_path_buf())).unwrap();
    let source = cache.source("t");
    let day = crate::dates::parse_date("2025-10-01").unwrap();
    let mut writer = crate::cache::writer::CacheWriter::new(
        source.clone(),
        std::collections::BTreeMap::from([(Category::Activity, vec![day])]),
    );
    let batch = crate::source::demo::DemoOrg::new(42, events_per_day).activity(day).unwrap();
    crate::source::RowSink::write_dated(&mut writer, Category::Activity, &batch).unwrap();
    let written: Vec<KnownFile> = writer.commit().unwrap().into_iter().map(|(_, file)| file).collect();
    let engine = Engine::new(options(), None).unwrap();
    engine.register(Category::Activity, &written).unwrap();
    (dir, engine)
}

/// A user's column named like a hidden one is an ordinary column: it is shown.
#[tokio::test]
async fn a_column_named_like_a_hidden_one_is_kept() {
    let (_dir, engine) = demo_day_engine(50);
    for sql in [
        "SELECT type AS __data_userId, 1 AS x FROM activity LIMIT 1",
        "SELECT * FROM (SELECT data->>'userId' AS u, type AS __data_mapid FROM activity) t LIMIT 1",
        "SELECT data->>'userId' AS u, type AS __data_user FROM activity LIMIT 1",
        "SELECT json_extract_string(data, '$.userId') AS u, data FROM activity LIMIT 1",
    ] {
        let [statement] = <[Statement; 1]>::try_from(compat::prepare(sql).unwrap()).unwrap();
        let frame = engine.plan(statement).await.unwrap();
        let names: Vec<String> = frame.schema().fields().iter().map(|f| f.name().clone()).collect();
        let rows = frame.collect().await.unwrap();
        assert_eq!(rows.iter().map(|b| b.num_columns()).max(), Some(names.len()), "{sql}");
        assert_eq!(names.len(), 2, "{sql}: {names:?}");
    }
}
