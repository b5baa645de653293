//! What a planning error says about the statement, for the fixes planning is retried with: a
//! name that no column has, a table's name used as a column, a column spelled in another case.

/// The unqualified name planning found no column for.
pub(super) fn missing_field(err: &datafusion::error::DataFusionError) -> Option<String> {
    let datafusion::error::DataFusionError::SchemaError(schema_error, _) = err.find_root() else { return None };
    match schema_error.as_ref() {
        datafusion::common::SchemaError::FieldNotFound { field, .. } if field.relation.is_none() => {
            Some(field.name.clone())
        }
        _ => None,
    }
}

/// A bare name planning found no column for that names a table whose columns it has: (the
/// name, those columns in order).
pub(super) fn missing_table_row(err: &datafusion::error::DataFusionError) -> Option<(String, Vec<String>)> {
    let datafusion::error::DataFusionError::SchemaError(schema_error, _) = err.find_root() else { return None };
    let datafusion::common::SchemaError::FieldNotFound { field, valid_fields } = schema_error.as_ref() else {
        return None;
    };
    if field.relation.is_some() {
        return None;
    }
    let mut columns: Vec<String> = Vec::new();
    for valid in valid_fields {
        if valid.relation.as_ref().is_some_and(|r| r.table().eq_ignore_ascii_case(&field.name))
            && !columns.contains(&valid.name)
        {
            columns.push(valid.name.clone());
        }
    }
    Some((field.name.clone(), columns)).filter(|(_, columns)| !columns.is_empty())
}

/// A column the plan lacks as written but has in another case: (as written, as it is).
pub(super) fn field_in_other_case(err: &datafusion::error::DataFusionError) -> Option<(String, String)> {
    let datafusion::error::DataFusionError::SchemaError(schema_error, _) = err.find_root() else { return None };
    let datafusion::common::SchemaError::FieldNotFound { field, valid_fields } = schema_error.as_ref() else {
        return None;
    };
    let actual = valid_fields.iter().find(|v| v.name.eq_ignore_ascii_case(&field.name) && v.name != field.name)?;
    Some((field.name.clone(), actual.name.clone()))
}
