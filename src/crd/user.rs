//! The `WhiskUser` custom resource (`whisksusers.nuvolaris.org/v1`, short name `wsku`).
//!
//! Every sub-section preserves unknown fields, as in the original, because
//! the `ops` CLI generates these objects and may add keys.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::WhiskUserStatus;

/// An OpenWhisk user (namespace) with its optional data services.
// Each printcolumn(...) repeats keys like `type_`, which clippy mistakes for
// duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nuvolaris.org",
    version = "v1",
    kind = "WhiskUser",
    plural = "whisksusers",
    singular = "whiskuser",
    shortname = "wsku",
    namespaced,
    status = "WhiskUserStatus",
    doc = "An OpenServerless user: OpenWhisk namespace plus optional storage, databases and caches.",
    printcolumn(
        name = "CouchDB",
        type_ = "string",
        priority = 0,
        json_path = ".status.whisk_user_create.couchdb",
        description = "CouchDB"
    ),
    printcolumn(
        name = "MongoDB",
        type_ = "string",
        priority = 0,
        json_path = ".status.whisk_user_create.mongodb",
        description = "MongoDB"
    ),
    printcolumn(
        name = "Redis",
        type_ = "string",
        priority = 0,
        json_path = ".status.whisk_user_create.redis",
        description = "Redis"
    ),
    printcolumn(
        name = "ObjectStorage",
        type_ = "string",
        priority = 0,
        json_path = ".status.whisk_user_create.storage_data",
        description = "ObjectStorage"
    ),
    printcolumn(
        name = "Route",
        type_ = "string",
        priority = 0,
        json_path = ".status.whisk_user_create.storage_route",
        description = "Route"
    )
)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct WhiskUserSpec {
    /// User e-mail.
    #[schemars(regex(pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"))]
    pub email: String,
    /// Login password (stored bcrypt-hashed).
    #[schemars(length(min = 1))]
    pub password: String,
    /// OpenWhisk namespace of the user: a lowercase DNS label of 5 to 63 characters (it is
    /// the first label of the user's host `<namespace>.<apihost>`).
    #[schemars(
        length(min = 5, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub namespace: String,
    /// OpenWhisk auth key, `<uuid>:<key>`: the shape of a UUID (letters and digits: the
    /// original's own samples hold non-hex ones) and a key of 64 or more letters and digits.
    #[schemars(regex(
        pattern = r"^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}:[0-9A-Za-z]{64,}$"
    ))]
    pub auth: String,
    /// User host name; `auto` is <namespace>.<apihost>.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apihost: Option<String>,
    /// Redis ACL on a key prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<UserRedis>,
    /// Object storage buckets.
    #[serde(
        default,
        rename = "object-storage",
        skip_serializing_if = "Option::is_none"
    )]
    pub object_storage: Option<UserObjectStorage>,
    /// Dedicated MongoDB database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mongodb: Option<UserDatabase>,
    /// Dedicated PostgreSQL database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<UserDatabase>,
    /// Dedicated Milvus database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milvus: Option<UserDatabase>,
    /// Unmodelled fields, kept as written.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// User Redis settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct UserRedis {
    /// Enable.
    pub enabled: bool,
    /// Key prefix of the user's ACL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Quota in MB, or `auto` for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// User object storage settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct UserObjectStorage {
    /// Password of the storage user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Quota per bucket in MB, or `auto` for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<String>,
    /// Data bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<UserBucket>,
    /// Static web content bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<UserBucket>,
    /// Unmodelled fields.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A user bucket.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct UserBucket {
    /// Create the bucket.
    pub enabled: bool,
    /// Bucket name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A user database (MongoDB, PostgreSQL, Milvus).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct UserDatabase {
    /// Create the database.
    pub enabled: bool,
    /// Database name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Quota in MB, or `auto` for none (not used for Milvus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}
