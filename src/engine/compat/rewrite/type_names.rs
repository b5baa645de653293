//! DuckDB's names of types that DataFusion does not know.

use datafusion::sql::sqlparser::ast::DataType as SqlType;

/// DuckDB's type names that DataFusion does not know, as the type that holds the same values:
/// JSON and UUID are text, HUGEINT a 38-digit DECIMAL, BIGNUM a 76-digit one, DATETIME a TIMESTAMP,
/// UINTEGER ...
pub(crate) fn duckdb_type(data_type: &mut SqlType) {
    use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, ExactNumberInfo};
    let replacement = match data_type {
        // Types inside types: `STRUCT(n UBIGINT)[]`.
        // Field names keep the case they are written in, as DuckDB's do (`STRUCT(HELLO INT)`).
        SqlType::Struct(fields, _) => {
            for field in fields.iter_mut() {
                duckdb_type(&mut field.field_type);
                if let Some(name) = field.field_name.as_mut() {
                    name.quote_style.get_or_insert('"');
                }
            }
            return;
        }
        SqlType::Array(
            ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::Parenthesis(inner),
        ) => {
            duckdb_type(inner);
            return;
        }
        SqlType::JSON | SqlType::JSONB | SqlType::Uuid => SqlType::Varchar(None),
        SqlType::HugeInt | SqlType::Int128 => SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 0)),
        SqlType::UHugeInt => SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 0)),
        SqlType::Int64 => SqlType::BigInt(None),
        SqlType::Int32 => SqlType::Int(None),
        SqlType::UBigInt | SqlType::UInt64 => SqlType::BigIntUnsigned(None),
        SqlType::UInt32 => SqlType::IntUnsigned(None),
        SqlType::USmallInt | SqlType::UInt16 => SqlType::SmallIntUnsigned(None),
        SqlType::UTinyInt | SqlType::UInt8 => SqlType::TinyIntUnsigned(None),
        // DuckDB's TIMESTAMP holds microseconds (years 290309 BC to 294247), where DataFusion's
        // default nanoseconds end in 1677 and 2262.
        SqlType::Datetime(_) | SqlType::TimestampNtz(_) => {
            SqlType::Timestamp(Some(6), datafusion::sql::sqlparser::ast::TimezoneInfo::None)
        }
        SqlType::Timestamp(None, zone) => SqlType::Timestamp(Some(6), *zone),
        SqlType::Blob(_) | SqlType::Binary(_) | SqlType::Varbinary(_) => SqlType::Bytea,
        SqlType::Custom(name, _) => match name.to_string().to_ascii_uppercase().as_str() {
            "UINTEGER" => SqlType::IntUnsigned(None),
            // DuckDB's integers of any size, as DataFusion's widest DECIMAL (76 digits) holds them.
            "BIGNUM" | "VARINT" => SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(76, 0)),
            "JSON" | "UUID" => SqlType::Varchar(None),
            "BLOB" | "BYTES" => SqlType::Bytea,
            // DuckDB's timestamps of other precisions.
            "TIMESTAMP_S" => SqlType::Timestamp(Some(0), datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            "TIMESTAMP_MS" => SqlType::Timestamp(Some(3), datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            "TIMESTAMP_US" => SqlType::Timestamp(Some(6), datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            "TIMESTAMP_NS" => SqlType::Timestamp(Some(9), datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            _ => return,
        },
        _ => return,
    };
    *data_type = replacement;
}

/// The timestamps among a `range`/`generate_series` table function's arguments, in
/// nanoseconds: DataFusion's series of timestamps takes no other precision.
pub(crate) fn timestamps_in_nanoseconds(args: &mut [datafusion::sql::sqlparser::ast::FunctionArg]) {
    use datafusion::sql::sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, TypedString};
    for arg in args {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(
            Expr::Cast { data_type: SqlType::Timestamp(precision, _), .. }
            | Expr::TypedString(TypedString { data_type: SqlType::Timestamp(precision, _), .. }),
        )) = arg
        {
            *precision = Some(9);
        }
    }
}
