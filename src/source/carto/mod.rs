//! The CARTO Activity Data client: credentials in, jobs created and awaited, files downloaded
//! with retries. Wire details live in [`wire`].

pub(crate) mod client;
pub(crate) mod credentials;
mod retry;
pub mod wire;
