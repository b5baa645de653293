//! DuckDB's path functions: `parse_path`, `parse_dirname`, `parse_dirpath`, `parse_filename`, and
//! `path_join`, which normalises as DuckDB's own `Path` does (POSIX paths and URIs with a scheme).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::engine::compat::functions::common::{invalid, row_udf, shared, texts};

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let utf8 = |_: &[DataType]| Ok(DataType::Utf8);
    vec![
        row_udf("parse_dirname", "parse_dirname(path [, separator])", 1..=2, utf8, |a| path_part(a, PathPart::Top)),
        row_udf("parse_dirpath", "parse_dirpath(path [, separator])", 1..=2, utf8, |a| path_part(a, PathPart::Head)),
        row_udf("parse_filename", "parse_filename(path [, trim_extension [, separator]])", 1..=3, utf8, parse_filename),
        row_udf(
            "parse_path",
            "parse_path(path [, separator])",
            1..=2,
            |_| Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))),
            parse_path,
        ),
        row_udf("path_join", "one or more paths: path_join(path, ...)", 1..=usize::MAX, utf8, path_join),
    ]
}

/// The separators a path splits on: `forward_slash`, `backslash`, or (DuckDB's default, for any
/// other option) both.
fn separators(option: Option<&str>) -> Vec<char> {
    match option.map(str::to_lowercase).as_deref() {
        Some("forward_slash") => vec!['/'],
        Some("backslash") => vec!['\\'],
        _ => vec!['/', '\\'],
    }
}

#[derive(Clone, Copy)]
enum PathPart {
    /// The first component (`/` for an absolute path).
    Top,
    /// Everything before the last component.
    Head,
}

fn path_part(arrays: &[ArrayRef], part: PathPart) -> Result<ArrayRef> {
    let (values, options) = (texts(&arrays[0])?, arrays.get(1).map(texts).transpose()?);
    let mut out = Vec::with_capacity(values.len());
    for (r, value) in values.iter().enumerate() {
        let separators = separators(options.as_ref().and_then(|o| o[r].as_deref()));
        out.push(value.as_ref().map(|path| {
            let trimmed = path.trim_end_matches(separators.as_slice());
            match part {
                PathPart::Top => match trimmed.find(separators.as_slice()) {
                    Some(0) => trimmed[..1].to_string(),
                    Some(at) => trimmed[..at].to_string(),
                    None => String::new(),
                },
                PathPart::Head => match trimmed.rfind(separators.as_slice()) {
                    Some(0) => trimmed[..1].to_string(),
                    Some(at) => trimmed[..at].to_string(),
                    None => String::new(),
                },
            }
        }));
    }
    Ok(shared(StringArray::from(out)))
}

fn parse_filename(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let values = texts(&arrays[0])?;
    // The second argument is the trim flag, or (as in DuckDB) the separator when it is text.
    let (trim, option) = match arrays.get(1) {
        Some(a) if a.data_type() == &DataType::Boolean => (Some(texts(a)?), arrays.get(2).map(texts).transpose()?),
        Some(a) => (None, Some(texts(a)?)),
        None => (None, None),
    };
    let mut out = Vec::with_capacity(values.len());
    for (r, value) in values.iter().enumerate() {
        let separators = separators(option.as_ref().and_then(|o| o[r].as_deref()));
        let trim_extension = trim.as_ref().and_then(|t| t[r].as_deref()) == Some("true");
        out.push(value.as_ref().map(|path| {
            let name = path.rsplit(separators.as_slice()).next().unwrap_or_default();
            match name.rfind('.') {
                Some(dot) if trim_extension && dot > 0 => name[..dot].to_string(),
                _ => name.to_string(),
            }
        }));
    }
    Ok(shared(StringArray::from(out)))
}

fn parse_path(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let (values, options) = (texts(&arrays[0])?, arrays.get(1).map(texts).transpose()?);
    let mut out = ListBuilder::new(StringBuilder::new());
    for (r, value) in values.iter().enumerate() {
        let separators = separators(options.as_ref().and_then(|o| o[r].as_deref()));
        let Some(path) = value else {
            out.append(false);
            continue;
        };
        if path.starts_with(separators.as_slice()) {
            out.values().append_value(&path[..1]);
        }
        for component in path.split(separators.as_slice()).filter(|c| !c.is_empty()) {
            out.values().append_value(component);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

fn path_join(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let columns: Vec<Vec<Option<String>>> = arrays.iter().map(texts).collect::<Result<_>>()?;
    let rows = columns.first().map_or(0, Vec::len);
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let mut joined: Option<Path> = None;
        for column in &columns {
            let Some(text) = &column[r] else {
                joined = None;
                break;
            };
            let next = Path::parse(text)?;
            joined = Some(match joined {
                None => next,
                Some(path) => path.join(next)?,
            });
        }
        out.push(joined.map(|p| p.to_string()));
    }
    Ok(shared(StringArray::from(out)))
}

fn is_separator(c: char) -> bool {
    c == '/' || c == '\\'
}

/// A path as DuckDB parses it: `scheme` (`s3://`, `file:`), `authority` (a bucket), `anchor` (`/`
/// when absolute) and its normalised segments (no `.`, `..` folded where it can be).
#[derive(Debug, Clone, Default)]
struct Path {
    scheme: String,
    authority: String,
    anchor: String,
    segments: Vec<String>,
    trailing_separator: bool,
    absolute: bool,
}

impl Path {
    fn parse(raw: &str) -> Result<Path> {
        let mut path = Path::default();
        let first_slash = raw.find('/').unwrap_or(usize::MAX);
        let offset = if let Some(after) = raw.strip_prefix("file:/") {
            path.absolute = true;
            let begin = if after.starts_with("//") {
                path.scheme = "file://".into();
                path.anchor = "/".into();
                8
            } else if after.starts_with('/') {
                let begin = path.uri_scheme(raw);
                if !path.authority.eq_ignore_ascii_case("localhost") {
                    return Err(invalid(format!(
                        "Path: file:// scheme only supports localhost authority, got: {}",
                        path.authority
                    )));
                }
                begin
            } else {
                path.scheme = "file:".into();
                path.anchor = "/".into();
                6
            };
            path.root(raw, begin)
        } else if raw.find("://").is_some_and(|at| at > 1 && at < first_slash) {
            path.uri_scheme(raw)
        } else {
            path.root(raw, 0)
        };
        if !path.scheme.starts_with(is_separator) {
            path.scheme = path.scheme.to_lowercase();
        }
        for segment in raw[offset.min(raw.len())..].split(is_separator) {
            if segment.is_empty() || segment == "." {
                continue;
            }
            if segment == ".." && path.segments.last().is_some_and(|s| s != "..") {
                path.segments.pop();
            } else if !(segment == ".." && path.absolute && path.segments.is_empty()) {
                path.segments.push(segment.to_string());
            }
        }
        path.trailing_separator = raw.ends_with(is_separator);
        Ok(path)
    }

    /// `scheme://authority/`: where the path after it begins.
    fn uri_scheme(&mut self, raw: &str) -> usize {
        self.absolute = true;
        let authority_begin = raw.find("://").map_or(0, |at| at + 3);
        self.scheme = raw[..authority_begin].to_string();
        let path_begin = raw[authority_begin..].find('/').map(|at| at + authority_begin);
        self.authority = raw[authority_begin..path_begin.unwrap_or(raw.len())].to_string();
        self.anchor = "/".into();
        path_begin.map_or(raw.len(), |at| at + 1)
    }

    /// A leading separator at `at` makes the path absolute.
    fn root(&mut self, raw: &str, at: usize) -> usize {
        if raw[at..].starts_with(is_separator) {
            self.anchor.push('/');
            self.absolute = true;
            return at + 1;
        }
        at
    }

    fn join(mut self, rhs: Path) -> Result<Path> {
        if !rhs.absolute {
            let mut folded: Vec<String> = Vec::with_capacity(self.segments.len() + rhs.segments.len());
            for segment in self.segments.drain(..).chain(rhs.segments) {
                if segment == ".." && folded.last().is_some_and(|s| s != "..") {
                    folded.pop();
                } else {
                    folded.push(segment);
                }
            }
            if self.absolute {
                let above_root = folded.iter().take_while(|s| *s == "..").count();
                folded.drain(..above_root);
            }
            self.segments = folded;
        } else if self.authority == rhs.authority
            && self.scheme == rhs.scheme
            && self.anchor == rhs.anchor
            && rhs.segments.starts_with(&self.segments)
        {
            self.segments = rhs.segments;
        } else {
            return Err(invalid(format!("Path: cannot join incompatible paths: \"{rhs}\" onto \"{self}\"")));
        }
        self.trailing_separator = rhs.trailing_separator;
        Ok(self)
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = format!("{}{}{}{}", self.scheme, self.authority, self.anchor, self.segments.join("/"));
        if self.trailing_separator && !self.segments.is_empty() {
            text.push('/');
        }
        if text.is_empty() {
            text.push('.');
        }
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(parts: &[&str]) -> Result<String> {
        let mut path = Path::parse(parts[0])?;
        for part in &parts[1..] {
            path = path.join(Path::parse(part)?)?;
        }
        Ok(path.to_string())
    }

    #[test]
    fn paths_join_as_duckdb_joins_them() {
        assert_eq!(joined(&["dir//subdir/", "./file"]).unwrap(), "dir/subdir/file");
        assert_eq!(joined(&["dir/..", "../.."]).unwrap(), "../..");
        assert_eq!(joined(&["/usr/local", "../.."]).unwrap(), "/");
        assert_eq!(joined(&["file:/usr/local", "../bin"]).unwrap(), "file:/usr/bin");
        assert_eq!(joined(&["s3://foo", "../.."]).unwrap(), "s3://foo/");
        assert_eq!(joined(&["", ""]).unwrap(), ".");
        assert!(joined(&["dir", "/abs/path"]).is_err());
        assert!(joined(&["s3://foo", "az://foo"]).is_err());
    }
}
