//! DuckDB functions that DataFusion computes the same way under another name.

/// DataFusion's name for a DuckDB function, when only the name differs.
pub(super) fn datafusion_name(duckdb: &str) -> Option<&'static str> {
    Some(match duckdb {
        "list" => "array_agg",
        "approx_count_distinct" => "approx_distinct",
        "regexp_matches" => "regexp_like",
        "ifnull" => "coalesce",
        "gen_random_uuid" => "uuid",
        "datediff" => "date_diff",
        "length" | "char_length" | "character_length" => "len",
        "quantile" => "quantile_disc",
        "ceiling" => "ceil",
        "variance" => "var_samp",
        "strlen" => "octet_length",
        "prefix" => "starts_with",
        "suffix" => "ends_with",
        "list_value" | "array_value" | "list_pack" => "make_array",
        "arbitrary" | "first" => "first_value",
        "last" => "last_value",
        "argmax" => "arg_max",
        "argmin" => "arg_min",
        "editdist3" => "levenshtein",
        "greatest_common_divisor" => "gcd",
        "least_common_multiple" => "lcm",
        "datepart" => "date_part",
        "datetrunc" => "date_trunc",
        "list_min" => "array_min",
        "list_max" => "array_max",
        "json_extract_path" => "json_extract",
        "json_extract_path_text" => "json_extract_string",
        "rank_dense" => "dense_rank",
        "group_concat" | "listagg" => "string_agg",
        "sum_no_overflow" => "sum",
        "approx_quantile" => "approx_percentile_cont",
        _ => return None,
    })
}
