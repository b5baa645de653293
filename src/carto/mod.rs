//! The CARTO Activity Data client: credentials in, jobs created and awaited, files downloaded
//! with retries. Wire details live in [`wire`].

pub mod client;
pub mod wire;

pub use client::{CartoClient, ClientConfig, RetryPolicy};
