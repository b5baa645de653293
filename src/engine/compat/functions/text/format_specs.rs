//! The placeholders of `printf` (C's) and `format` (fmt's) read into one description.

/// One placeholder: flags, width, precision and conversion, in C's terms.
#[derive(Debug, Default, Clone)]
pub(super) struct Spec {
    pub(super) left: bool,
    pub(super) plus: bool,
    pub(super) space: bool,
    pub(super) zero: bool,
    /// `#`: `0x` before hexadecimal, `0` before octal.
    pub(super) alternate: bool,
    /// The separator between groups of three digits (`%,d`, `{:,}`, `{:_}`, `{:t.}`).
    pub(super) thousands: Option<char>,
    pub(super) fill: Option<char>,
    pub(super) center: bool,
    /// format() was told how to align (else text goes left, numbers right).
    pub(super) aligned: bool,
    pub(super) width: usize,
    pub(super) precision: Option<usize>,
    pub(super) conversion: char,
}

pub(super) enum Piece {
    Text(String),
    Value(Spec),
}

pub(super) fn parse_printf(format: &str) -> std::result::Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            text.push('%');
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                '#' => spec.alternate = true,
                ',' | '_' | '\'' => spec.thousands = Some(flag),
                _ => break,
            }
            chars.next();
        }
        spec.width = digits(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            // `%.d`: a dot between thousands, not a precision.
            if matches!(chars.peek(), Some('d' | 'i' | 'u')) {
                spec.thousands = Some('.');
            } else {
                spec.precision = Some(digits(&mut chars));
            }
        }
        while matches!(chars.peek(), Some('l' | 'h' | 'z' | 'j')) {
            chars.next();
        }
        spec.conversion = chars.next().ok_or("printf: the format ends inside a placeholder")?;
        pieces.push(Piece::Text(std::mem::take(&mut text)));
        pieces.push(Piece::Value(spec));
    }
    pieces.push(Piece::Text(text));
    Ok(pieces)
}

pub(super) fn parse_format(format: &str) -> std::result::Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let inside: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let spec_text = inside.split_once(':').map_or("", |(_, s)| s);
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                pieces.push(Piece::Value(format_spec(spec_text)));
            }
            c => text.push(c),
        }
    }
    pieces.push(Piece::Text(text));
    Ok(pieces)
}

/// `[[fill]align][sign][0][width][,][.precision][type]`, as fmt (and DuckDB's format) reads it.
fn format_spec(text: &str) -> Spec {
    let mut spec = Spec { conversion: 's', ..Spec::default() };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let align = |c: char| matches!(c, '<' | '>' | '^');
    if chars.len() >= 2 && align(chars[1]) {
        spec.fill = Some(chars[0]);
        i = 1;
    }
    if let Some(&a) = chars.get(i)
        && align(a)
    {
        spec.left = a == '<';
        spec.center = a == '^';
        spec.aligned = true;
        i += 1;
    }
    if let Some(&s) = chars.get(i)
        && matches!(s, '+' | '-' | ' ')
    {
        spec.plus = s == '+';
        spec.space = s == ' ';
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        spec.zero = true;
        i += 1;
    }
    let mut rest = chars[i..].iter().copied().peekable();
    spec.width = digits(&mut rest);
    match rest.peek() {
        Some(&c @ (',' | '_' | '\'')) => {
            rest.next();
            spec.thousands = Some(c);
        }
        Some('t') => {
            rest.next();
            spec.thousands = rest.next();
        }
        _ => {}
    }
    if rest.peek() == Some(&'.') {
        rest.next();
        spec.precision = Some(digits(&mut rest));
    }
    if let Some(t) = rest.next() {
        spec.conversion = t;
    } else if spec.precision.is_some() {
        spec.conversion = 'f';
    }
    spec
}

fn digits(chars: &mut std::iter::Peekable<impl Iterator<Item = char>>) -> usize {
    let mut n = 0usize;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = n.saturating_mul(10).saturating_add(d as usize);
        chars.next();
    }
    n
}
