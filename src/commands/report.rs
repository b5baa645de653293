//! `report`: the panels planned, engines brought over the report's range and the period before
//! it (in one fill, under one lease held until the page is written), the page written whole.

use std::path::PathBuf;

use crate::atomic::write_whole;
use crate::cli::ReportArgs;
use crate::context::{Context, Parallelism};
use crate::error::Result;
use crate::report::ReportPlan;
use crate::report::spec::Spec;

pub(super) async fn run(context: &Context, args: ReportArgs) -> Result<()> {
    let range = args.range.resolve()?;
    let spec = match &args.spec {
        Some(path) => Spec::load(path)?,
        None => Spec::builtin(),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("carto-activity-report_{}_{}.html", range.start, range.end)));
    let plan = ReportPlan::new(&spec, range)?;
    let engines =
        context.engines(&plan.ranges(), &plan.categories(), args.range.no_cache, Parallelism::AllCores).await?;
    let (page, panels) = plan.render(&engines, context.source_label()).await?;
    // A report is made to be shared: readable by others, as files the user writes usually are.
    write_whole(&output, page.as_bytes(), 0o644)?;
    // The engines, and with them the cache lease, go only now that the page is written.
    drop(engines);
    context.printer().info(&format!("wrote {} ({panels} panels)", output.display()));
    Ok(())
}
