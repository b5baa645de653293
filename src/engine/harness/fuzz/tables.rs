//! The four tables as the query generator sees them: typed column expressions.

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Ty {
    Text,
    Int,
    Num,
    Bool,
    Ts,
    Date,
}

/// A table as the generator sees it: its name, alias and typed column expressions.
pub(super) struct Table {
    pub(super) from: &'static str,
    pub(super) columns: &'static [(Ty, &'static str)],
    /// A column that is unique per row (a total order for windows), if the table has one.
    pub(super) key: Option<&'static str>,
}

pub(super) const ACTIVITY: Table = Table {
    from: "activity a",
    columns: &[
        (Ty::Text, "a.type"),
        (Ty::Text, "a.data->>'userId'"),
        (Ty::Text, "json_extract_string(a.data, '$.mapId')"),
        (Ty::Text, "a.data->>'$.map.title'"),
        (Ty::Text, "a.data->'details'->>'source'"),
        (Ty::Text, "json_extract_string(a.data, '$.provider')"),
        (Ty::Int, "CAST(a.data->>'layers' AS INTEGER)"),
        (Ty::Int, "TRY_CAST(json_extract_string(a.data, '$.details.durationMs') AS BIGINT)"),
        (Ty::Ts, "a.ts"),
    ],
    key: None,
};

pub(super) const API_USAGE: Table = Table {
    from: "apiUsage u",
    columns: &[
        (Ty::Text, "u.user_id"),
        (Ty::Text, "u.metric"),
        (Ty::Text, "u.map_id"),
        (Ty::Text, "u.workflow_id"),
        (Ty::Num, "u.amount"),
        (Ty::Num, "u.quota_usage_weight"),
        (Ty::Ts, "u.ts"),
    ],
    key: None,
};

pub(super) const USER_LIST: Table = Table {
    from: "userList l",
    columns: &[
        (Ty::Text, "l.user_id"),
        (Ty::Text, "l.email"),
        (Ty::Text, "l.role"),
        (Ty::Ts, "l.created_at"),
        (Ty::Int, "len(l.group_ids)"),
        (Ty::Text, "l.group_ids[1]"),
    ],
    key: Some("l.user_id"),
};

pub(super) const GROUP_LIST: Table = Table {
    from: "groupList g",
    columns: &[(Ty::Text, "g.group_id"), (Ty::Text, "g.group_alias")],
    key: Some("g.group_id"),
};

pub(super) const TABLES: [&Table; 4] = [&ACTIVITY, &API_USAGE, &USER_LIST, &GROUP_LIST];
