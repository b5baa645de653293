//! The four Activity Data categories and their normalised Arrow schemas, shared by every source,
//! the cache, the engine and exports.

use std::fmt;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Activity,
    ApiUsage,
    UserList,
    GroupList,
}

impl crate::choice::Named for Category {
    const NAMES: &'static [(&'static str, Self, &'static str)] = &[
        ("activity", Category::Activity, ""),
        ("apiUsage", Category::ApiUsage, ""),
        ("userList", Category::UserList, ""),
        ("groupList", Category::GroupList, ""),
    ];
}

/// Timestamps are microseconds in UTC, as CARTO's Parquet files carry them.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

static ACTIVITY: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("type", DataType::Utf8, false),
        Field::new("ts", timestamp_type(), false),
        Field::new("data", DataType::Utf8, false),
    ]))
});

static API_USAGE: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("ts", timestamp_type(), false),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("metric", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("map_id", DataType::Utf8, true),
        Field::new("workflow_id", DataType::Utf8, true),
        Field::new("quota_usage_weight", DataType::Float64, false),
    ]))
});

static USER_LIST: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, false),
        Field::new("email", DataType::Utf8, false),
        Field::new("role", DataType::Utf8, false),
        Field::new("created_at", timestamp_type(), false),
        Field::new("group_ids", DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))), true),
    ]))
});

static GROUP_LIST: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("group_id", DataType::Utf8, false),
        Field::new("group_alias", DataType::Utf8, false),
    ]))
});

impl Category {
    pub const ALL: [Category; 4] = [Category::Activity, Category::ApiUsage, Category::UserList, Category::GroupList];

    /// The name used on the wire, in file names and as the SQL table name.
    pub fn name(self) -> &'static str {
        match self {
            Category::Activity => "activity",
            Category::ApiUsage => "apiUsage",
            Category::UserList => "userList",
            Category::GroupList => "groupList",
        }
    }

    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(name))
    }

    pub fn schema(self) -> SchemaRef {
        match self {
            Category::Activity => ACTIVITY.clone(),
            Category::ApiUsage => API_USAGE.clone(),
            Category::UserList => USER_LIST.clone(),
            Category::GroupList => GROUP_LIST.clone(),
        }
    }

    /// User and group lists are snapshots of "now", not split by day.
    pub fn is_snapshot(self) -> bool {
        matches!(self, Category::UserList | Category::GroupList)
    }

    /// The column that places a row on a UTC day, for dated categories.
    pub fn day_column(self) -> Option<&'static str> {
        (!self.is_snapshot()).then_some("ts")
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for c in Category::ALL {
            assert_eq!(Category::from_name(&c.name().to_uppercase()), Some(c));
        }
        assert_eq!(Category::from_name("events"), None);
    }

    #[test]
    fn only_lists_are_snapshots() {
        assert!(!Category::Activity.is_snapshot());
        assert!(Category::GroupList.is_snapshot());
        assert_eq!(Category::ApiUsage.day_column(), Some("ts"));
    }
}
