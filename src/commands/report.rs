//! `report`: the panels planned, engines brought over the report's range and the period before
//! it (in one fill, under one lease held until the page is written), the page written whole.

use std::path::PathBuf;

use crate::atomic::write_whole;
use crate::cli::ReportArgs;
use crate::context::{Context, Parallelism};
use crate::error::Result;
use crate::output::print_text;
use crate::report::spec::Spec;
use crate::report::{ReportPlan, SIGNATURE};
use crate::write_policy::Replace;

/// Writes the report; the file written (none for standard output) and its panel count.
pub(super) async fn run(context: &Context, args: ReportArgs) -> Result<(Option<PathBuf>, usize)> {
    let range = args.range.resolve()?;
    let spec = match &args.spec {
        Some(path) => Spec::load(path).await?,
        None => Spec::builtin(),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("carto-activity-report_{}_{}.html", range.start, range.end)));
    // `-` is standard output, as for most tools; anything else is a file written whole, which
    // replaces no link, device, spec it is made from, or file that is not a report (unless asked).
    let to_stdout = output.as_os_str() == "-";
    let output = if to_stdout {
        output
    } else {
        let replace = if args.overwrite { Replace::Always } else { Replace::IfStartsWith(SIGNATURE) };
        let inputs: Vec<&std::path::Path> = args.spec.iter().map(|p| p.as_path()).collect();
        context.write_policy().file(&output, "--output", &inputs, replace)?
    };
    let plan = ReportPlan::new(&spec, range)?;
    let engines =
        context.engines(&plan.ranges(), &plan.categories(), args.range.no_cache, Parallelism::AllCores).await?;
    let (page, panels) = plan.render(&engines, context.source_label()).await?;
    if to_stdout {
        drop(engines);
        return print_text(&page).map(|()| (None, panels));
    }
    // A report is made to be shared: readable by others, as files the user writes usually are.
    write_whole(&output, page.as_bytes(), 0o644)?;
    // The engines, and with them the cache lease, go only now that the page is written.
    drop(engines);
    context.printer().info(&format!("wrote {} ({panels} panels)", output.display()));
    Ok((Some(output), panels))
}
