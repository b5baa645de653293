//! The README's examples on the demo: every shell command shown with its output prints that
//! output, character for character. `README_BLESS=1` writes what they print into the README.

use crate::common::{Env, assert_success};

/// (command, printed output) of each ```sh block that a ```text block follows.
fn examples(readme: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find("```sh\n") {
        let body = &rest[at + 6..];
        let Some(end) = body.find("\n```\n") else { break };
        let command = body[..end].replace("\\\n", " ");
        let after = &body[end + 5..];
        let text = after.trim_start_matches('\n');
        if let Some(output) = text.strip_prefix("```text\n")
            && let Some(close) = output.find("\n```")
        {
            found.push((command, output[..close].to_string()));
        }
        rest = after;
    }
    found
}

#[test]
fn the_readme_examples_print_what_it_shows() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 3, "{} examples with their output", examples.len());
    let env = Env::new();
    let bless = std::env::var_os("README_BLESS").is_some();
    let mut blessed = readme.clone();
    for (command, shown) in examples {
        let words = shlex::split(&command).unwrap_or_else(|| panic!("not shell words: {command}"));
        let args: Vec<&str> = match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["cargo", "run", "--", args @ ..] | ["carto-activity", args @ ..] => args.to_vec(),
            _ => panic!("an example of another program: {command}"),
        };
        assert!(args.contains(&"--demo"), "an example with output runs on the demo: {command}");
        let out = env.cmd().args(&args).output().unwrap();
        assert_success(&out);
        let printed = String::from_utf8(out.stdout).unwrap();
        if bless {
            blessed = blessed.replacen(
                &format!("```text\n{shown}\n```"),
                &format!("```text\n{}\n```", printed.trim_end()),
                1,
            );
        } else {
            assert_eq!(printed.trim_end(), shown.trim_end(), "{command} (README_BLESS=1 rewrites the outputs)");
        }
    }
    if bless {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"), blessed).unwrap();
    }
}
