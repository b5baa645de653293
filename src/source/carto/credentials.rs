//! Where the CARTO token comes from, first match wins: `--token` / `CARTO_API_TOKEN`; an M2M
//! OAuth client (`CARTO_CLIENT_ID` + `CARTO_CLIENT_SECRET`); the official CARTO CLI's
//! `~/.carto_credentials.json` (`--profile` / `CARTO_PROFILE`, else its current profile).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::wire::{CREDENTIALS_FILE, CredentialsFile, Profile};
use crate::error::{Error, Result};

/// A secret: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into().trim().trim_start_matches("Bearer ").to_string())
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[derive(Clone)]
pub struct M2mClient {
    pub client_id: String,
    pub client_secret: Token,
}

impl fmt::Debug for M2mClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "M2mClient({}, ***)", self.client_id)
    }
}

#[derive(Debug, Clone)]
pub enum Credentials {
    /// A token given as it is (flag, environment or credentials file); `origin` says which.
    Token { token: Token, origin: String },
    /// An M2M client whose tokens are fetched, cached and refreshed.
    M2m(M2mClient),
}

pub const NO_CREDENTIALS: &str = "no CARTO credentials: pass --token (or set CARTO_API_TOKEN) with an OAuth access token of an Admin user, \
     set CARTO_CLIENT_ID and CARTO_CLIENT_SECRET for an M2M OAuth client, or log in with CARTO's CLI (~/.carto_credentials.json); \
     or add --demo to use the built-in demo organisation";

pub struct Sources<'a> {
    pub token: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub profile: Option<&'a str>,
    pub home: Option<PathBuf>,
}

pub fn resolve(sources: &Sources) -> Result<Credentials> {
    if let Some(token) = sources.token.filter(|t| !t.trim().is_empty()) {
        return Ok(Credentials::Token { token: Token::new(token), origin: "--token / CARTO_API_TOKEN".into() });
    }
    match (sources.client_id, sources.client_secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            return Ok(Credentials::M2m(M2mClient { client_id: id.to_string(), client_secret: Token::new(secret) }));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::Usage("an M2M client needs both CARTO_CLIENT_ID and CARTO_CLIENT_SECRET".into()));
        }
        _ => {}
    }
    let Some(path) = sources.home.as_ref().map(|h| h.join(CREDENTIALS_FILE)) else {
        return Err(Error::NoSource(NO_CREDENTIALS.into()));
    };
    if !path.is_file() {
        if let Some(profile) = sources.profile {
            return Err(Error::Usage(format!(
                "--profile {profile} was given but {} does not exist: log in with CARTO's CLI first",
                path.display()
            )));
        }
        return Err(Error::NoSource(NO_CREDENTIALS.into()));
    }
    from_credentials_file(&path, sources.profile)
}

fn from_credentials_file(path: &Path, profile: Option<&str>) -> Result<Credentials> {
    let text = crate::input::read_file(path, "the CARTO credentials file", MAX_CREDENTIALS_BYTES)?;
    let file = read_credentials(&text).map_err(|what| {
        Error::Usage(format!(
            "{} is not a CARTO credentials file ({what}): log in again with CARTO's CLI",
            path.display()
        ))
    })?;
    let name = profile
        .map(str::to_string)
        .or(file.current_profile.clone())
        .ok_or_else(|| Error::Usage(format!("{} names no current profile: pass --profile NAME", path.display())))?;
    let found = file.profiles.get(&name).ok_or_else(|| {
        let mut known: Vec<&String> = file.profiles.keys().collect();
        known.sort();
        let known: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
        Error::Usage(format!("no profile '{name}' in {} (profiles: {})", path.display(), known.join(", ")))
    })?;
    Ok(Credentials::Token {
        token: Token::new(found.token.clone()),
        origin: format!("profile '{name}' of {}", path.display()),
    })
}

/// CARTO's CLI writes a few kilobytes; a larger file is not one.
const MAX_CREDENTIALS_BYTES: u64 = 1 << 20;

/// The credentials file, or what is wrong with it in words that name fields and never quote a
/// value (the file holds tokens, and a message may end up in a log).
fn read_credentials(text: &str) -> std::result::Result<CredentialsFile, String> {
    use serde_json::Value;
    // A syntax error's message gives a place, never the text at it.
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON at line {}, column {}", e.line(), e.column()))?;
    let Value::Object(object) = value else { return Err("not a JSON object".into()) };
    let current_profile = match object.get("current_profile") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err("`current_profile` is not text".into()),
    };
    let mut profiles = std::collections::HashMap::new();
    match object.get("profiles") {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => {
            for (name, entry) in entries {
                let token = match entry.get("token") {
                    Some(Value::String(token)) => token.clone(),
                    Some(_) => return Err(format!("the `token` of profile '{name}' is not text")),
                    None if entry.is_object() => return Err(format!("profile '{name}' has no `token`")),
                    None => return Err(format!("profile '{name}' is not an object with a `token`")),
                };
                profiles.insert(name.clone(), Profile { token });
            }
        }
        Some(_) => return Err("`profiles` is not an object of profiles".into()),
    }
    Ok(CredentialsFile { current_profile, profiles })
}

/// A stable name for the organisation behind the credentials, to name its part of the cache:
/// a short hash, so that neither a token nor an id appears in a path. A bare token names its
/// account through its JWT claims when it has them (tokens change daily; accounts do not).
pub fn account_key(credentials: &Credentials, api_url: &str) -> String {
    let account = match credentials {
        Credentials::M2m(client) => format!("m2m:{}", client.client_id),
        Credentials::Token { token, origin } => {
            jwt_account(token.expose()).unwrap_or_else(|| format!("{origin}:{}", token.expose()))
        }
    };
    let digest = Sha256::digest(format!("{}|{account}", api_url.trim_end_matches('/')).as_bytes());
    hex::encode(digest)[..16].to_string()
}

fn jwt_account(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    ["https://carto.com/account_id", "account_id", "sub"]
        .iter()
        .find_map(|k| claims.get(*k).and_then(|v| v.as_str()).map(|v| format!("jwt:{v}")))
}

/// An M2M token cached on disk (mode 0600) until shortly before it expires.
#[derive(Serialize, Deserialize)]
struct CachedToken {
    access_token: String,
    expires_at: DateTime<Utc>,
}

/// Tokens are not used in their last minutes, so that a request never starts with one that
/// expires on the way.
const EXPIRY_MARGIN_MINUTES: i64 = 5;

pub fn token_cache_path(dir: &Path, client: &M2mClient) -> PathBuf {
    let digest = Sha256::digest(client.client_id.as_bytes());
    dir.join(format!("m2m-{}.json", &hex::encode(digest)[..16]))
}

pub fn read_cached_token(path: &Path) -> Option<Token> {
    let cached: CachedToken = serde_json::from_str(&fs::read_to_string(path).ok()?).ok()?;
    (cached.expires_at - Duration::minutes(EXPIRY_MARGIN_MINUTES) > Utc::now()).then(|| Token::new(cached.access_token))
}

pub fn write_cached_token(path: &Path, token: &Token, expires_in_seconds: u64) -> Result<()> {
    let cached = CachedToken {
        access_token: token.expose().to_string(),
        expires_at: Utc::now() + Duration::seconds(expires_in_seconds.min(i64::MAX as u64) as i64),
    };
    let text =
        serde_json::to_string(&cached).map_err(|e| Error::internal("encoding the token cache")(e.to_string()))?;
    // Mode 0600 from the start: the token is never readable by others, even half-written.
    crate::atomic::write_whole(path, text.as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources<'a>(home: &'a Path) -> Sources<'a> {
        Sources { token: None, client_id: None, client_secret: None, profile: None, home: Some(home.to_path_buf()) }
    }

    #[test]
    fn tokens_never_print() {
        let token = Token::new("Bearer s3cret");
        assert_eq!(token.expose(), "s3cret");
        assert_eq!(format!("{token:?}"), "Token(***)");
        let creds = Credentials::Token { token, origin: "x".into() };
        assert!(!format!("{creds:?}").contains("s3cret"));
    }

    #[test]
    fn first_match_wins() {
        let home = tempfile::tempdir().unwrap();
        fs::write(
            home.path().join(CREDENTIALS_FILE),
            r#"{"current_profile": "a", "profiles": {"a": {"token": "from-a"}, "b": {"token": "from-b"}}}"#,
        )
        .unwrap();
        let mut s = sources(home.path());
        let token_of = |s: &Sources| match resolve(s).unwrap() {
            Credentials::Token { token, .. } => token.expose().to_string(),
            Credentials::M2m(c) => format!("m2m:{}", c.client_id),
        };
        assert_eq!(token_of(&s), "from-a");
        s.profile = Some("b");
        assert_eq!(token_of(&s), "from-b");
        s.client_id = Some("id");
        s.client_secret = Some("secret");
        assert_eq!(token_of(&s), "m2m:id");
        s.token = Some("flag");
        assert_eq!(token_of(&s), "flag");
        let mut bad = sources(home.path());
        bad.profile = Some("nope");
        assert!(resolve(&bad).unwrap_err().to_string().contains("profiles: a, b"));
    }

    /// Every way the file can be wrong names what is wrong, and none quotes a value.
    #[test]
    fn malformed_files_never_quote_a_secret() {
        let home = tempfile::tempdir().unwrap();
        let secret = "tok_SECRET_123";
        for (text, needle) in [
            (r#"{"current_profile":"a","profiles":{"a":"tok_SECRET_123"}}"#, "profile 'a' is not an object"),
            (r#"{"current_profile":"a","profiles":{"a":{"token":["tok_SECRET_123"]}}}"#, "`token` of profile 'a'"),
            (r#"{"current_profile":"a","profiles":{"a":{"tokn":"tok_SECRET_123"}}}"#, "has no `token`"),
            (r#"{"current_profile":"tok_SECRET_123","profiles":["tok_SECRET_123"]}"#, "`profiles` is not"),
            (r#"{"current_profile":["tok_SECRET_123"]}"#, "`current_profile` is not text"),
            (r#"["tok_SECRET_123"]"#, "not a JSON object"),
            (r#""tok_SECRET_123""#, "not a JSON object"),
            (r#"{"profiles":{"a":{"token":"tok_SECRET_123\q"}}}"#, "not JSON at line 1"),
            (r#"{"profiles":{"a":{"token":"tok_SECRET_123"#, "not JSON"),
            ("tok_SECRET_123", "not JSON"),
        ] {
            fs::write(home.path().join(CREDENTIALS_FILE), text).unwrap();
            let message = resolve(&sources(home.path())).unwrap_err().to_string();
            assert!(message.contains(needle) && !message.contains("SECRET"), "{text}: {message}");
        }
        // A profile that is not there lists the profiles by name only.
        fs::write(
            home.path().join(CREDENTIALS_FILE),
            format!(r#"{{"current_profile":"b","profiles":{{"a":{{"token":"{secret}"}}}}}}"#),
        )
        .unwrap();
        let message = resolve(&sources(home.path())).unwrap_err().to_string();
        assert!(message.contains("profiles: a") && !message.contains(secret), "{message}");
    }

    #[test]
    fn nothing_configured_lists_the_three_ways() {
        let home = tempfile::tempdir().unwrap();
        let err = resolve(&sources(home.path())).unwrap_err().to_string();
        assert!(err.contains("--token") && err.contains("CARTO_CLIENT_ID") && err.contains("carto_credentials"));
    }

    #[test]
    fn cached_tokens_are_private_and_expire_early() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        write_cached_token(&path, &Token::new("abc"), 3600).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_cached_token(&path), Some(Token::new("abc")));
        write_cached_token(&path, &Token::new("abc"), 60).unwrap();
        assert_eq!(read_cached_token(&path), None, "a token in its last minutes is not used");
    }
}
