//! DuckDB's `regexp_extract(text, pattern, ['name', ...] [, options])` and
//! `regexp_extract_all(...)` with group names: a STRUCT of the named groups (a list of them for
//! every match). The names reach these UDFs as constant arguments after the options
//! (`regexp_extract_struct(text, pattern, options, 'name', ...)`), written so by the rewrite of
//! the call, since a list literal is not yet a constant when the result type is chosen.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ListArray, StringArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::engine::compat::functions::common::{invalid, texts};
use crate::engine::compat::functions::regex::common::{compile, for_each_match};

pub(crate) const EXTRACT: &str = "regexp_extract_struct";
pub(crate) const EXTRACT_ALL: &str = "regexp_extract_all_struct";

pub(crate) fn functions() -> Vec<ScalarUDF> {
    [(EXTRACT, false), (EXTRACT_ALL, true)]
        .into_iter()
        .map(|(name, all)| {
            ScalarUDF::new_from_impl(RegexpStruct {
                name,
                all,
                signature: Signature::variadic_any(Volatility::Immutable),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpStruct {
    name: &'static str,
    all: bool,
    signature: Signature,
}

fn fields(names: &[String]) -> Fields {
    names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect()
}

impl ScalarUDFImpl for RegexpStruct {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{}: the group names must be constant texts", self.name)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let mut names = Vec::new();
        for value in args.scalar_arguments.iter().skip(3) {
            match value {
                Some(ScalarValue::Utf8(Some(n))) => names.push(n.clone()),
                _ => return plan_err!("regexp_extract: the group names must be a list of constant texts"),
            }
        }
        if names.is_empty() {
            return plan_err!("regexp_extract: the list of group names is empty");
        }
        if names.iter().collect::<HashSet<_>>().len() != names.len() {
            return plan_err!("regexp_extract: a group name is given twice");
        }
        let row = DataType::Struct(fields(&names));
        let data_type = if self.all { DataType::List(Arc::new(Field::new_list_field(row, true))) } else { row };
        Ok(Arc::new(Field::new(self.name, data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?;
        let (subjects, patterns, options) = (texts(&arrays[0])?, texts(&arrays[1])?, texts(&arrays[2])?);
        let names: Vec<String> =
            arrays[3..].iter().map(|a| Ok(texts(a)?[0].clone().unwrap_or_default())).collect::<Result<_>>()?;
        let mut compiled: HashMap<(String, Option<String>), regex::Regex> = HashMap::new();
        // Per name, its values; per row, how many structs (one, or one per match) and whether NULL.
        let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
        let (mut lengths, mut valid) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
        for row in 0..rows {
            let (Some(subject), Some(pattern)) = (&subjects[row], &patterns[row]) else {
                lengths.push(usize::from(!self.all));
                valid.push(false);
                if !self.all {
                    columns.iter_mut().for_each(|c| c.push(None));
                }
                continue;
            };
            let key = (pattern.clone(), options[row].clone().filter(|o| !o.is_empty()));
            if !compiled.contains_key(&key) {
                compiled.insert(key.clone(), compile(pattern, key.1.as_deref())?);
            }
            let re = &compiled[&key];
            if names.len() >= re.captures_len() {
                return Err(invalid(format!(
                    "Invalid Input Error: Not enough group names: the pattern has {} groups, {} names are given",
                    re.captures_len() - 1,
                    names.len()
                )));
            }
            valid.push(true);
            if self.all {
                let mut count = 0;
                for_each_match(re, subject, |captures| {
                    for (k, column) in columns.iter_mut().enumerate() {
                        column.push(captures.get(k + 1).map(|m| m.as_str().to_string()));
                    }
                    count += 1;
                    Ok(())
                })?;
                lengths.push(count);
            } else {
                // No match, or a group outside it, is '' in DuckDB's regexp_extract.
                let captures = re.captures(subject);
                for (k, column) in columns.iter_mut().enumerate() {
                    let found = captures.as_ref().and_then(|c| c.get(k + 1)).map_or("", |m| m.as_str());
                    column.push(Some(found.to_string()));
                }
                lengths.push(1);
            }
        }
        let children: Vec<ArrayRef> = columns.into_iter().map(|c| Arc::new(StringArray::from(c)) as ArrayRef).collect();
        let result: ArrayRef = if self.all {
            let structs = StructArray::try_new(fields(&names), children, None)?;
            let item = Arc::new(Field::new_list_field(structs.data_type().clone(), true));
            Arc::new(ListArray::try_new(
                item,
                OffsetBuffer::from_lengths(lengths),
                Arc::new(structs),
                Some(NullBuffer::from(valid)),
            )?)
        } else {
            Arc::new(StructArray::try_new(fields(&names), children, Some(NullBuffer::from(valid)))?)
        };
        crate::engine::compat::functions::common::columnar(result, scalar)
    }
}
