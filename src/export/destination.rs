//! Where exported files go: a local folder or an object store (S3, GCS, Azure), and the prefix
//! inside it.

use std::sync::Arc;

use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectStore, ObjectStoreExt};
use futures::{StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::write_policy::WritePolicy;

/// The environment variable that lets a store without credentials ask the cloud's
/// instance-metadata service for them.
pub(crate) const INSTANCE_METADATA_ENV: &str = "CARTO_ACTIVITY_INSTANCE_METADATA";

/// A store built without credentials in the environment falls back to the machine's
/// instance-metadata service (an HTTP request to a link-local address, made on the first write):
/// refused unless the operator asked for it.
fn refuse_instance_metadata(flag: &str, target: &str, store: &dyn ObjectStore) -> Result<()> {
    let described = format!("{store:?}");
    let from_metadata = ["InstanceCredentialProvider", "ImdsManagedIdentityProvider"]
        .iter()
        .any(|provider| described.contains(provider));
    if !from_metadata || std::env::var(INSTANCE_METADATA_ENV).is_ok_and(|v| v == "1") {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{flag} {target}: no credentials for it in the environment (e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY); to use this machine's instance role instead, set {INSTANCE_METADATA_ENV}=1"
    )))
}

/// A local folder or an object store, and the prefix inside it.
pub struct Destination {
    pub(super) store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    pub(super) display: String,
    /// The folder, for a local destination: removals go through the file system there, which
    /// (unlike the store's listing) also sees the store's own `name#n` upload files.
    pub(super) local: Option<std::path::PathBuf>,
    /// The first folder of `local` that did not exist before this run.
    created: Option<std::path::PathBuf>,
}

impl Destination {
    /// `s3://`, `gs://`, `az://` (credentials from each cloud's usual environment variables,
    /// and `AWS_ENDPOINT_URL` for S3-compatible stores), `file://` or a plain folder, as
    /// `policy` allows; errors name `flag`. A local folder that does not exist is created, and
    /// removed again by [`Destination::unlock`] if nothing was written in it.
    pub fn parse(flag: &str, target: &str, policy: &WritePolicy) -> Result<Destination> {
        use datafusion::object_store::aws::AmazonS3Builder;
        use datafusion::object_store::azure::MicrosoftAzureBuilder;
        use datafusion::object_store::gcp::GoogleCloudStorageBuilder;
        use datafusion::object_store::local::LocalFileSystem;
        let bad = |e: &dyn std::fmt::Display| Error::Usage(format!("{flag} {target}: {e}"));
        let (scheme, rest) = target.split_once("://").unwrap_or(("", target));
        let cloud = |store: Arc<dyn ObjectStore>| -> Result<Destination> {
            refuse_instance_metadata(flag, target, &*store)?;
            let prefix = rest.split_once('/').map_or("", |(_, p)| p).trim_matches('/');
            Ok(Destination {
                store,
                prefix: StorePath::from(prefix),
                display: target.trim_end_matches('/').to_string(),
                local: None,
                created: None,
            })
        };
        if matches!(scheme, "s3" | "s3a" | "gs" | "az" | "abfs" | "abfss" | "azure") {
            policy.check_remote(flag, target)?;
        }
        match scheme {
            "s3" | "s3a" => {
                let mut builder = AmazonS3Builder::from_env().with_url(target);
                if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
                    builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
                }
                cloud(Arc::new(builder.build().map_err(|e| bad(&e))?))
            }
            "gs" => {
                cloud(Arc::new(GoogleCloudStorageBuilder::from_env().with_url(target).build().map_err(|e| bad(&e))?))
            }
            "az" | "abfs" | "abfss" | "azure" => {
                cloud(Arc::new(MicrosoftAzureBuilder::from_env().with_url(target).build().map_err(|e| bad(&e))?))
            }
            "" | "file" => {
                let dir = policy.folder(std::path::Path::new(if scheme == "file" { rest } else { target }), flag)?;
                let created = dir.ancestors().take_while(|d| !d.exists()).last().map(std::path::Path::to_path_buf);
                std::fs::create_dir_all(&dir).map_err(Error::io("cannot create the output folder", &dir))?;
                let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| bad(&e))?;
                Ok(Destination {
                    store: Arc::new(store),
                    prefix: StorePath::default(),
                    display: dir.display().to_string(),
                    local: Some(dir),
                    created,
                })
            }
            other => Err(Error::Usage(format!(
                "{flag} {target}: unknown scheme '{other}://' (use a folder, file://, s3://, gs:// or az://)"
            ))),
        }
    }

    /// The folders this destination created that are still empty, removed (a refused or
    /// failed first run leaves no trace).
    pub(super) fn remove_if_unused(&self) {
        let (Some(dir), Some(top)) = (&self.local, &self.created) else { return };
        for folder in dir.ancestors() {
            if std::fs::remove_dir(folder).is_err() || folder == top {
                break;
            }
        }
    }

    /// The store, rooted at the bucket (or the folder, for a local destination).
    pub(crate) fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The folder, for a local destination.
    pub(crate) fn local_dir(&self) -> Option<&std::path::Path> {
        self.local.as_deref()
    }

    pub(crate) fn child(&self, name: &str) -> StorePath {
        let mut parts: Vec<String> = self.prefix.parts().map(|p| p.as_ref().to_string()).collect();
        parts.extend(name.split('/').map(str::to_string));
        StorePath::from_iter(parts)
    }

    /// `path` below the prefix.
    pub(super) fn relative<'p>(&self, path: &'p StorePath) -> &'p str {
        path.as_ref().strip_prefix(self.prefix.as_ref()).unwrap_or(path.as_ref()).trim_start_matches('/')
    }

    pub(crate) fn shown(&self, path: &StorePath) -> String {
        format!("{}/{}", self.display, self.relative(path))
    }

    pub(crate) fn failed(&self, what: &str, path: &StorePath, e: impl std::fmt::Display) -> Error {
        Error::Write { context: format!("cannot {what} {}", self.shown(path)), message: e.to_string() }
    }

    pub(crate) async fn exists(&self, target: &StorePath) -> Result<bool> {
        match self.store.head(target).await {
            Ok(_) => return Ok(true),
            Err(datafusion::object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(self.failed("reach", target, e)),
        }
        let mut listing = self.store.list(Some(target));
        match listing.next().await {
            Some(Ok(_)) => Ok(true),
            Some(Err(datafusion::object_store::Error::NotFound { .. })) | None => Ok(false),
            Some(Err(e)) => Err(self.failed("list", target, e)),
        }
    }

    pub(crate) async fn remove_all(&self, target: &StorePath) -> Result<()> {
        if let Some(dir) = &self.local {
            return remove_local(&dir.join(self.relative(target)));
        }
        let _ = self.store.delete(target).await;
        let objects: Vec<_> = self.store.list(Some(target)).try_collect().await.unwrap_or_default();
        for object in objects {
            self.store.delete(&object.location).await.map_err(|e| self.failed("remove", &object.location, e))?;
        }
        Ok(())
    }
}

/// A local file or folder, with the `name#n` uploads the store left beside a file.
fn remove_local(path: &std::path::Path) -> Result<()> {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path).map_err(Error::io("cannot remove", path))?,
        Ok(_) => std::fs::remove_file(path).map_err(Error::io("cannot remove", path))?,
        Err(e) if gone(&e) => {}
        Err(e) => return Err(Error::io("cannot remove", path)(e)),
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return Ok(()) };
    for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(&format!("{name}#"))) {
            std::fs::remove_file(entry.path()).map_err(Error::io("cannot remove", entry.path()))?;
        }
    }
    Ok(())
}
