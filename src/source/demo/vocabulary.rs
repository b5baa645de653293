//! The demo organisation's vocabulary: names, products, event types and their payload kinds.

pub(super) const GROUP_ALIASES: [&str; 12] = [
    "Data Science",
    "GIS Team",
    "Marketing",
    "Sales Ops",
    "Engineering",
    "Field Operations",
    "Executives",
    "Customer Success",
    "Logistics",
    "Retail Analytics",
    "Urban Planning",
    "Partners",
];
pub(super) const FIRST_NAMES: [&str; 24] = [
    "ana", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "iris", "jorge", "kim", "lucía", "marco",
    "nadia", "oscar", "paula", "quentin", "rosa", "sven", "tomás", "uma", "victor", "wen", "zoe",
];
pub(super) const LAST_NAMES: [&str; 20] = [
    "garcia", "smith", "müller", "rossi", "dubois", "kowalski", "tanaka", "silva", "nguyen", "okafor", "jensen",
    "novak", "haddad", "larsen", "moreno", "fischer", "costa", "ivanova", "patel", "o'brien",
];
pub(super) const DOMAINS: [(&str, u32); 4] =
    [("acme-geo.com", 70), ("acme-geo.co.uk", 15), ("partner-analytics.io", 10), ("gmail.com", 5)];
pub(super) const PROVIDERS: [&str; 6] = ["bigquery", "snowflake", "redshift", "postgres", "databricks", "carto_dw"];
pub(super) const MAP_TITLES: [&str; 12] = [
    "Store coverage",
    "Delivery zones",
    "Población por municipio",
    "Site selection – Q3",
    "Churn hotspots",
    "Fleet \"live\" view",
    "Flood risk, 2025",
    "Footfall heatmap",
    "Sales territories",
    "Cell towers",
    "Bike lanes 🚲",
    "Census tracts",
];
pub(super) const WORKFLOW_TITLES: [&str; 8] = [
    "Nightly sales enrichment",
    "Geocode new customers",
    "Isochrones for stores",
    "Actualización de catastro",
    "Churn model, weekly",
    "H3 footfall aggregation",
    "Import \"partner\" feeds",
    "Route optimisation – EU",
];
pub(super) const LOGIN_METHODS: [(&str, u32); 4] = [("password", 30), ("google", 35), ("sso", 30), ("saml", 5)];
pub(super) const ERRORS: [&str; 5] = [
    "Permission denied for dataset analytics.sales",
    "Quota exceeded: 10 GB processed today",
    "Invalid geometry at row 12, column \"geom\"",
    "Connection timed out after 30s",
    "Access denied: missing role roles/bigquery.dataViewer",
];
pub(super) const FILE_NAMES: [&str; 6] = [
    "sales_q3, 2025 (final).csv",
    "población_municipios.geojson",
    "stores.parquet",
    "routes \"v2\".gpkg",
    "customers.csv.gz",
    "parcels_2025.zip",
];
pub(super) const PROMPTS: [&str; 4] = [
    "Which stores are within 10 minutes' drive of a competitor?",
    "¿Dónde abrir la próxima tienda? Usa \"footfall\" y renta media, por favor.",
    "Show flood risk for parcels, then summarise by district",
    "Résumé des ventes par région — top 5",
];
/// API usage metrics with their quota weight.
pub(super) const METRICS: [(&str, f64); 7] = [
    ("maps_api_requests", 1.0),
    ("sql_api_requests", 0.5),
    ("lds_geocoding", 2.0),
    ("lds_routing", 4.0),
    ("lds_isolines", 5.0),
    ("workflow_executions", 1.5),
    ("ai_agent_requests", 3.0),
];

/// How an event type's payload is built.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Payload {
    MapLoad,
    Map,
    Workflow,
    WorkflowRun,
    Login,
    Connection,
    Import,
    ImportFailed,
    Agent,
    AiRequest,
    AiResponse,
    Token,
    /// An account invited or deleted by an admin.
    Member,
    ExportRequest,
    Generic,
    System,
}

/// The events that are a thing's or an account's life rather than its use: they happen
/// exactly when the timeline says (their weight only orders the catalogue).
pub(super) const LIFECYCLE: [&str; 12] = [
    "MapCreated",
    "MapDeleted",
    "WorkflowCreated",
    "WorkflowDeleted",
    "ConnectionCreated",
    "ConnectionDeleted",
    "TokenCreated",
    "TokenDeleted",
    "AIAgentCreated",
    "AIAgentDeleted",
    "UserInvited",
    "UserDeleted",
];

pub(super) struct EventType {
    pub(super) name: String,
    pub(super) weight: f64,
    pub(super) payload: Payload,
}

pub(super) fn event_types() -> Vec<EventType> {
    use Payload::*;
    let main: [(&str, f64, Payload); 45] = [
        ("MapLoadedEvent", 3000.0, MapLoad),
        ("SqlApiQuery", 900.0, Generic),
        ("WorkflowRun", 500.0, WorkflowRun),
        ("WorkflowExecutionComplete", 420.0, WorkflowRun),
        ("MapUpdated", 400.0, Map),
        ("UserLogins", 350.0, Login),
        ("AIRequest", 260.0, AiRequest),
        ("AIResponse", 250.0, AiResponse),
        ("WorkflowUpdated", 200.0, Workflow),
        ("DataExplorerTableViewed", 180.0, Generic),
        ("MapCreated", 120.0, Map),
        ("MapPublished", 60.0, Map),
        ("MapShared", 50.0, Map),
        ("WorkflowCreated", 45.0, Workflow),
        ("WorkflowExecutionFailed", 40.0, WorkflowRun),
        ("ImportCompleted", 40.0, Import),
        ("ImportStarted", 42.0, Import),
        ("ConnectionTested", 35.0, Connection),
        ("MapDuplicated", 30.0, Map),
        ("MapDeleted", 25.0, Map),
        ("TokenCreated", 20.0, Token),
        ("ScheduledWorkflowTriggered", 60.0, System),
        ("ImportFailed", 8.0, ImportFailed),
        ("ExportFailed", 5.0, ImportFailed),
        ("WorkflowDeleted", 12.0, Workflow),
        ("ConnectionCreated", 10.0, Connection),
        ("ConnectionUpdated", 8.0, Connection),
        ("ConnectionDeleted", 3.0, Connection),
        ("TokenDeleted", 6.0, Token),
        ("MapUnpublished", 10.0, Map),
        ("ActivityDataExportRequest", 2.0, ExportRequest),
        ("UserInvited", 4.0, Member),
        ("UserRoleChanged", 2.0, Generic),
        ("UserDeleted", 1.0, Member),
        ("GroupCreated", 0.5, Generic),
        ("GroupUpdated", 1.0, Generic),
        ("ApplicationCreated", 2.0, Generic),
        ("WorkflowScheduleCreated", 5.0, Workflow),
        ("WorkflowScheduleDeleted", 2.0, Workflow),
        ("AIAgentCreated", 3.0, Agent),
        ("AIAgentUpdated", 4.0, Agent),
        ("AIAgentDeleted", 0.5, Agent),
        ("BasemapChanged", 15.0, Map),
        ("QuotaThresholdReached", 1.0, System),
        ("MaintenanceWindowNotified", 0.3, System),
    ];
    let mut types: Vec<EventType> =
        main.iter().map(|&(name, weight, payload)| EventType { name: name.to_string(), weight, payload }).collect();
    // The long tail of rarer events that every real organisation has.
    let resources = [
        "Widget",
        "Layer",
        "Dataset",
        "Tileset",
        "Notebook",
        "Dashboard",
        "Catalog",
        "Analysis",
        "Folder",
        "Tag",
        "Comment",
        "Bookmark",
        "Theme",
        "Legend",
        "Filter",
        "Snapshot",
    ];
    let verbs = ["Created", "Updated", "Deleted", "Viewed", "Exported"];
    for (i, (resource, verb)) in
        resources.iter().flat_map(|r| verbs.iter().map(move |v| (r, v))).enumerate().take(120 - types.len())
    {
        types.push(EventType {
            name: format!("{resource}{verb}"),
            weight: 8.0 / (1.0 + i as f64).powf(0.9),
            payload: Payload::Generic,
        });
    }
    types
}
