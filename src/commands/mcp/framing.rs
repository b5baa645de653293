//! The server's side of the stdio channel, between the client and the SDK: messages are lines
//! of at most [`MAX_MESSAGE_BYTES`], and a line that is not a JSON-RPC message the SDK can take
//! (not UTF-8, not JSON, `NaN`, a request without the params its method needs) is answered with
//! JSON-RPC's error here (`-32700`, `-32600`, `-32602`) instead of being dropped unanswered,
//! which would leave the client waiting for ever. Both the SDK's lines and these answers go out
//! through one writer, whole.

use rmcp::model::ClientJsonRpcMessage;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;

/// A message longer than this is refused (and skipped to its end): no tool call needs more.
pub(super) const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// JSON-RPC's error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// The SDK's ends of the channel, and the task that carries the lines until both sides end.
pub(super) fn channel<R, W>(input: R, output: W) -> (DuplexStream, DuplexStream, tokio::task::JoinHandle<()>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (sdk_input, feed) = tokio::io::duplex(1 << 16);
    let (sdk_output, drain) = tokio::io::duplex(1 << 16);
    let (answers, refusals) = mpsc::unbounded_channel();
    tokio::spawn(read_messages(input, feed, answers));
    let writer = tokio::spawn(write_messages(drain, refusals, output));
    (sdk_input, sdk_output, writer)
}

/// Reads the client's lines: good ones go to the SDK, the others are answered.
async fn read_messages<R: AsyncRead + Unpin>(input: R, mut feed: DuplexStream, answers: mpsc::UnboundedSender<Value>) {
    let mut input = BufReader::new(input);
    loop {
        let line = match read_line(&mut input).await {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => return,
        };
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match check(line) {
            Ok(()) => {
                let written = feed.write_all(line).await.and(feed.write_all(b"\n").await);
                if written.is_err() {
                    return;
                }
            }
            Err(answer) => {
                let _ = answers.send(answer);
            }
        }
    }
}

/// One line without its `\n`; a line over the limit is skipped to its end and given as empty
/// of content but marked by [`too_long`]. `None` at the end of the input.
async fn read_line<R: AsyncRead + Unpin>(input: &mut BufReader<R>) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buffer = input.fill_buf().await?;
        if buffer.is_empty() {
            return Ok((!line.is_empty() || too_long).then(|| if too_long { oversized() } else { line }));
        }
        let (part, end) = match buffer.iter().position(|b| *b == b'\n') {
            Some(i) => (&buffer[..i], Some(i + 1)),
            None => (buffer, None),
        };
        if !too_long && line.len() + part.len() <= MAX_MESSAGE_BYTES {
            line.extend_from_slice(part);
        } else {
            too_long = true;
            line = Vec::new();
        }
        let consumed = end.unwrap_or(buffer.len());
        input.consume(consumed);
        if end.is_some() {
            return Ok(Some(if too_long { oversized() } else { line }));
        }
    }
}

/// What stands for a line that was too long: not JSON, so [`check`] answers it; a NUL byte
/// cannot start a real message.
fn oversized() -> Vec<u8> {
    b"\0too long".to_vec()
}

/// `Ok` for a message the SDK can take; else the error response to send.
fn check(line: &[u8]) -> Result<(), Value> {
    if line.starts_with(b"\0too long") {
        return Err(error(Value::Null, PARSE_ERROR, &format!("a message is at most {} MiB", MAX_MESSAGE_BYTES >> 20)));
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(error(Value::Null, PARSE_ERROR, "the message is not UTF-8 text"));
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let message: Value = serde_json::from_str(text).map_err(|e| {
        error(Value::Null, PARSE_ERROR, &format!("the message is not JSON (line {}, column {})", e.line(), e.column()))
    })?;
    let Some(object) = message.as_object() else {
        return Err(error(
            Value::Null,
            INVALID_REQUEST,
            "a message is one JSON-RPC object (batches are not used by MCP)",
        ));
    };
    let id = object.get("id").cloned();
    let answerable = id.as_ref().is_some_and(|id| id.is_string() || id.is_number());
    let refuse = |code: i64, text: &str| {
        // A notification (no id) gets no answer, as JSON-RPC says.
        if answerable || code == INVALID_REQUEST {
            Err(error(id.clone().unwrap_or(Value::Null), code, text))
        } else {
            Ok(())
        }
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return refuse(INVALID_REQUEST, "a message needs \"jsonrpc\": \"2.0\"");
    }
    if let Some(method) = object.get("method").and_then(Value::as_str) {
        let params = object.get("params");
        if let Some(needs) = required_params(method)
            && !params.is_some_and(|p| needs.iter().all(|key| p.get(key).is_some_and(Value::is_string)))
        {
            return refuse(INVALID_PARAMS, &format!("{method} needs params with {}", needs.join(" and ")));
        }
        if params.is_some_and(|p| !p.is_object()) {
            return refuse(INVALID_PARAMS, &format!("the params of {method} are an object"));
        }
        if method == "tools/call"
            && params.and_then(|p| p.get("arguments")).is_some_and(|a| !a.is_object() && !a.is_null())
        {
            return refuse(INVALID_PARAMS, "the arguments of tools/call are an object of the tool's arguments");
        }
    }
    if let Err(e) = serde_json::from_value::<ClientJsonRpcMessage>(message.clone()) {
        let text = crate::error::one_line(&e.to_string());
        return refuse(INVALID_REQUEST, &format!("not a JSON-RPC message of MCP: {text}"));
    }
    Ok(())
}

/// The params (text members) each request method cannot do without.
fn required_params(method: &str) -> Option<&'static [&'static str]> {
    match method {
        "tools/call" => Some(&["name"]),
        "resources/read" => Some(&["uri"]),
        "prompts/get" => Some(&["name"]),
        "initialize" => Some(&["protocolVersion"]),
        _ => None,
    }
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// Writes the SDK's lines and the refusals, each whole, until both have ended.
async fn write_messages<W: AsyncWrite + Unpin>(
    drain: DuplexStream,
    mut refusals: mpsc::UnboundedReceiver<Value>,
    mut output: W,
) {
    let mut lines = BufReader::new(drain).lines();
    let (mut sdk_open, mut refusals_open) = (true, true);
    while sdk_open || refusals_open {
        let line = tokio::select! {
            line = lines.next_line(), if sdk_open => match line {
                Ok(Some(line)) => line,
                _ => { sdk_open = false; continue }
            },
            refusal = refusals.recv(), if refusals_open => match refusal {
                Some(refusal) => refusal.to_string(),
                None => { refusals_open = false; continue }
            },
        };
        let written = async {
            output.write_all(line.as_bytes()).await?;
            output.write_all(b"\n").await?;
            output.flush().await
        };
        if written.await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> Option<i64> {
        check(line.as_bytes()).err().map(|answer| answer["error"]["code"].as_i64().unwrap())
    }

    #[test]
    fn what_the_sdk_cannot_take_is_answered_as_json_rpc_says() {
        let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"tables","arguments":{}}}"#;
        assert_eq!(code(call), None);
        assert_eq!(code(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#), None);
        assert_eq!(code("{not json"), Some(PARSE_ERROR));
        assert_eq!(
            code(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"max_rows":NaN}}}"#
            ),
            Some(PARSE_ERROR)
        );
        assert_eq!(check(b"\xff\xfe").unwrap_err()["id"], Value::Null);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call"}"#), Some(INVALID_PARAMS));
        assert_eq!(check(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call"}"#).unwrap_err()["id"], 7);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":[1]}}"#),
            Some(INVALID_PARAMS)
        );
        assert_eq!(code(r#"[1, 2]"#), Some(INVALID_REQUEST));
        assert_eq!(code(r#"{"id":1,"method":"ping"}"#), Some(INVALID_REQUEST));
        assert_eq!(code(r#"{"jsonrpc":"2.0","method":"tools/call"}"#), None, "a notification is not answered");
    }

    #[tokio::test]
    async fn long_lines_are_skipped_to_their_end() {
        let mut input = vec![b'x'; MAX_MESSAGE_BYTES + 10];
        input.extend_from_slice(b"\n{\"a\":1}\n");
        let mut reader = BufReader::new(&input[..]);
        assert_eq!(read_line(&mut reader).await.unwrap(), Some(oversized()));
        assert_eq!(read_line(&mut reader).await.unwrap(), Some(b"{\"a\":1}".to_vec()));
        assert_eq!(read_line(&mut reader).await.unwrap(), None);
    }
}
