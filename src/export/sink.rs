//! Where an exported file's bytes go: the store, as they come, counted and hashed on the way.

use datafusion::object_store::buffered::BufWriter;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// A file being written: bytes go to the store as they come, counted and hashed on the way.
pub(super) struct Sink {
    pub(super) writer: BufWriter,
    pub(super) hasher: Sha256,
    pub(super) bytes: u64,
}

impl Sink {
    pub(super) async fn put(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.writer.write_all(data).await
    }
}
