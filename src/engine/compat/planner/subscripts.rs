//! Subscripts DuckDB reads where DataFusion subscripts only lists and structs: `s[i]` and `s[i:j]`
//! of text (characters), and on DuckDB's JSON `j.key`, `j['key']`, `j[0]` (an element, 0-based;
//! `[-1]` the last) and `data.map.title` on a JSON column, each giving the JSON value there (a
//! slice of JSON is a slice of its text, as in DuckDB); a struct's fields named in any case. An
//! expression planner, because the
//! planner types a subscript while planning it, before any rewrite of the plan could see the type.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Column, DFSchema, Result, ScalarValue, TableReference, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawFieldAccessExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, GetFieldAccess, ScalarUDF, lit};

#[derive(Debug)]
pub(crate) struct DuckDbSubscripts {
    text_element: Arc<ScalarUDF>,
    text_slice: Arc<ScalarUDF>,
    json_get: Arc<ScalarUDF>,
    /// DuckDB's reading of a key: in objects only (`j."2"` of an array is NULL).
    json_key: Arc<ScalarUDF>,
    json_mark: Arc<ScalarUDF>,
}

impl DuckDbSubscripts {
    pub(crate) fn new() -> Self {
        let [text_element, text_slice] = ["text_element", "text_slice"].map(|name| {
            let udf = crate::engine::compat::functions::text::character_positions::functions()
                .into_iter()
                .find(|u| u.name() == name);
            Arc::new(udf.unwrap_or_else(|| unreachable!("character_positions defines {name}")))
        });
        let json_mark = crate::engine::compat::functions::json::json_type::functions()
            .into_iter()
            .find(|u| u.name() == "json_mark");
        let json_key = crate::engine::compat::functions::json::json_raw::functions()
            .into_iter()
            .find(|u| u.name() == "json_path_json");
        DuckDbSubscripts {
            text_element,
            text_slice,
            json_get: datafusion_functions_json::udfs::json_get_json_udf(),
            json_key: Arc::new(json_key.unwrap_or_else(|| unreachable!("json_path defines json_path_json"))),
            json_mark: Arc::new(json_mark.unwrap_or_else(|| unreachable!("json_type defines json_mark"))),
        }
    }

    fn call(udf: &Arc<ScalarUDF>, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), args))
    }

    /// `json -> key` (a key or an element's position): DuckDB's JSON there.
    fn json_at(&self, json: Expr, key: Expr) -> Expr {
        Self::call(&self.json_mark, vec![Self::call(&self.json_get, vec![json, key])])
    }
}

/// The fields' names as the struct spells them, where one of `names` is written in another case
/// (DataFusion's own path takes the others).
fn struct_fields_in_any_case(field: &Field, names: &[String]) -> Option<Vec<String>> {
    let mut current = field.data_type();
    let mut spelled = Vec::with_capacity(names.len());
    let mut recased = false;
    for name in names {
        let DataType::Struct(fields) = current else { break };
        let found = fields.iter().find(|f| f.name() == name).or_else(|| {
            recased = true;
            fields.iter().find(|f| f.name().eq_ignore_ascii_case(name))
        })?;
        spelled.push(found.name().clone());
        current = found.data_type();
    }
    (recased && spelled.len() == names.len()).then_some(spelled)
}

/// Whether a field is text, and whether that text is DuckDB's JSON.
fn text_kind(field: &Field) -> Option<bool> {
    matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        .then(|| crate::engine::compat::types::is_json(field))
}

impl ExprPlanner for DuckDbSubscripts {
    fn plan_field_access(
        &self,
        access: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        // DataFusion's map lookup fails an assertion on keys of nested types.
        if let Ok((_, field)) = access.expr.to_field(schema)
            && let DataType::Map(entries, _) = field.data_type()
            && let DataType::Struct(parts) = entries.data_type()
            && parts.first().is_some_and(|key| key.data_type().is_nested())
            && matches!(access.field_access, GetFieldAccess::ListIndex { .. })
        {
            return plan_err!(
                "a subscript of a map whose keys are lists or structs is not supported: unnest map_entries(m) and filter on the key instead"
            );
        }
        // A numeric key of another width than the map's (`m[1]` of INTEGER keys): DataFusion
        // compares them without a cast, and fails.
        let map_key = match access.expr.to_field(schema) {
            Ok((_, field)) => match field.data_type() {
                DataType::Map(entries, _) => match entries.data_type() {
                    DataType::Struct(parts) => parts.first().map(|key| key.data_type().clone()),
                    _ => None,
                },
                _ => None,
            },
            Err(_) => None,
        };
        if let Some(key_type) = map_key.filter(DataType::is_numeric) {
            return Ok(PlannerResult::Original(match access.field_access {
                GetFieldAccess::ListIndex { key }
                    if key.get_type(schema).is_ok_and(|t| t.is_numeric() && t != key_type) =>
                {
                    let key = Box::new(datafusion::logical_expr::cast(*key, key_type));
                    RawFieldAccessExpr { field_access: GetFieldAccess::ListIndex { key }, expr: access.expr }
                }
                field_access => RawFieldAccessExpr { field_access, expr: access.expr },
            }));
        }
        // A struct's fields are named in any case, as DuckDB's are (`s.HELLO`, `s['Hello']`).
        if let Ok((_, field)) = access.expr.to_field(schema)
            && let DataType::Struct(fields) = field.data_type()
        {
            let named = match &access.field_access {
                GetFieldAccess::NamedStructField { name: ScalarValue::Utf8(Some(name)) } => Some(name.clone()),
                GetFieldAccess::ListIndex { key } => match key.as_ref() {
                    Expr::Literal(ScalarValue::Utf8(Some(name)), _) => Some(name.clone()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(name) = named
                && !fields.iter().any(|f| f.name() == &name)
                && let Some(actual) = fields.iter().find(|f| f.name().eq_ignore_ascii_case(&name))
            {
                let name = ScalarValue::Utf8(Some(actual.name().clone()));
                let field_access = GetFieldAccess::NamedStructField { name };
                return Ok(PlannerResult::Original(RawFieldAccessExpr { field_access, expr: access.expr }));
            }
        }
        let Some(json) = access.expr.to_field(schema).ok().and_then(|(_, field)| text_kind(&field)) else {
            return Ok(PlannerResult::Original(access));
        };
        let value = access.expr.clone();
        Ok(match access.field_access {
            GetFieldAccess::NamedStructField { name: ScalarValue::Utf8(Some(name)) } if json => {
                if name.parse::<i64>().is_ok() {
                    PlannerResult::Planned(Self::call(&self.json_key, vec![value, lit(name)]))
                } else {
                    PlannerResult::Planned(self.json_at(value, lit(name)))
                }
            }
            GetFieldAccess::ListIndex { key } if json => PlannerResult::Planned(self.json_at(value, *key)),
            GetFieldAccess::ListIndex { key } => {
                PlannerResult::Planned(Self::call(&self.text_element, vec![value, *key]))
            }
            GetFieldAccess::ListRange { start, stop, stride }
                if matches!(stride.as_ref(), Expr::Literal(ScalarValue::Int64(Some(1)), _)) =>
            {
                PlannerResult::Planned(Self::call(&self.text_slice, vec![value, *start, *stop]))
            }
            field_access => PlannerResult::Original(RawFieldAccessExpr { field_access, expr: access.expr }),
        })
    }

    // `data.map.title`: keys of a JSON column; `s.hello`: a struct's field `HELLO`.
    fn plan_compound_identifier(
        &self,
        field: &Field,
        qualifier: Option<&TableReference>,
        nested_names: &[String],
    ) -> Result<PlannerResult<Vec<Expr>>> {
        if matches!(field.data_type(), DataType::Struct(_)) {
            return Ok(match struct_fields_in_any_case(field, nested_names) {
                Some(names) => {
                    let column = Expr::Column(Column::from((qualifier, field)));
                    let value = names.into_iter().fold(column, datafusion::functions::core::expr_fn::get_field);
                    // Named as written, as DuckDB names it (`s.hello` is `hello`).
                    PlannerResult::Planned(value.alias(nested_names.last().cloned().unwrap_or_default()))
                }
                None => PlannerResult::Original(vec![]),
            });
        }
        if text_kind(field) != Some(true) {
            return Ok(PlannerResult::Original(vec![]));
        }
        let column = Expr::Column(Column::from((qualifier, field)));
        let value = nested_names.iter().fold(column, |json, name| self.json_at(json, lit(name.clone())));
        Ok(PlannerResult::Planned(value))
    }
}
