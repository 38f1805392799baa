//! Splits `.kir` text into tokens, each with the line and column it starts at.
//!
//! The lexer knows nothing about ops or attributes: numbers are kept as text
//! and parsed by the parser once it knows what kind of number it expects
//! (a dimension, an `i32` literal, an `f32` attribute). Newlines are tokens,
//! because the text form has one node per line and a trailing `; comment` on a
//! node line is that node's name. Lines and columns count from 1; columns
//! count characters, not bytes.

use crate::error::ParseError;
use std::iter::Peekable;
use std::str::CharIndices;

/// A line and column in the source, both from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// An error at this position.
    pub fn error(self, expected: impl Into<String>, found: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            column: self.column,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// One token of the text form.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Token<'a> {
    /// `%12`: a node id.
    Id(u32),
    /// `graph`, `f32`, `matmul`, `axis`, `true`, `inf`, `kaiming_uniform`:
    /// `[A-Za-z_][A-Za-z0-9_.-]*`.
    Ident(&'a str),
    /// `128`, `-3`, `0.5`, `1e-8`, `-inf`: kept as written; the parser reads it
    /// as the kind of number the context needs.
    Number(&'a str),
    /// `"fc1.weight"`, with escapes (`\"`, `\\`, `\n`, `\t`, `\r`, `\u{..}`) resolved.
    Str(String),
    /// `; text` up to the end of the line; holds the text after `;`.
    Comment(&'a str),
    /// `{` opening the graph body.
    LBrace,
    /// `}` closing the graph body.
    RBrace,
    /// `[` opening a shape or a list.
    LBracket,
    /// `]` closing a shape or a list.
    RBracket,
    /// `(` opening an initializer's arguments.
    LParen,
    /// `)` closing an initializer's arguments.
    RParen,
    /// `:` between a node's id and its type.
    Colon,
    /// `=` before an op, between an attribute and its value, in `output`.
    Equals,
    /// `,` between operands and list elements.
    Comma,
    /// `<-` in `update "target" <- %3`.
    Arrow,
    /// The end of a line.
    Newline,
    /// The end of the text.
    Eof,
}

impl Token<'_> {
    /// How the token reads in an error message ("found ...").
    pub fn describe(&self) -> String {
        match self {
            Token::Id(n) => format!("`%{n}`"),
            Token::Ident(s) | Token::Number(s) => format!("`{s}`"),
            Token::Str(s) => format!("string {}", quote(s)),
            Token::Comment(c) => format!("comment `;{c}`"),
            Token::LBrace => "`{`".into(),
            Token::RBrace => "`}`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::Colon => "`:`".into(),
            Token::Equals => "`=`".into(),
            Token::Comma => "`,`".into(),
            Token::Arrow => "`<-`".into(),
            Token::Newline => "end of line".into(),
            Token::Eof => "end of input".into(),
        }
    }
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Located<'a> {
    pub token: Token<'a>,
    pub pos: Pos,
}

/// A string in the text form's spelling: in double quotes, with `"`, `\` and
/// control characters escaped. The lexer reads exactly these escapes back.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `c` may start an identifier.
pub(crate) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// Whether `c` may continue an identifier (dots and dashes allow graph names
/// such as `resnet-18` or `mlp.v2`).
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The tokens of one text, produced on demand.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    chars: Peekable<CharIndices<'a>>,
    line: usize,
    column: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            chars: src.char_indices().peekable(),
            line: 1,
            column: 1,
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().map(|&(_, c)| c)
    }

    /// The byte offset of the next character (the text's length at the end).
    fn offset(&mut self) -> usize {
        self.chars.peek().map_or(self.src.len(), |&(i, _)| i)
    }

    fn bump(&mut self) -> Option<char> {
        let (_, c) = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    /// Consumes characters while `keep` holds and returns them as a slice.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.offset();
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        let end = self.offset();
        &self.src[start..end]
    }

    /// The next token, or an error for text that is no token at all.
    pub fn next_token(&mut self) -> Result<Located<'a>, ParseError> {
        while self.peek().is_some_and(|c| c != '\n' && c.is_whitespace()) {
            self.bump();
        }
        let pos = self.pos();
        let Some(c) = self.peek() else {
            return Ok(Located {
                token: Token::Eof,
                pos,
            });
        };
        let punct = match c {
            '\n' => Some(Token::Newline),
            '{' => Some(Token::LBrace),
            '}' => Some(Token::RBrace),
            '[' => Some(Token::LBracket),
            ']' => Some(Token::RBracket),
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            ':' => Some(Token::Colon),
            '=' => Some(Token::Equals),
            ',' => Some(Token::Comma),
            _ => None,
        };
        let token = if let Some(token) = punct {
            self.bump();
            token
        } else {
            match c {
                ';' => {
                    self.bump();
                    Token::Comment(self.take_while(|c| c != '\n').trim_end_matches('\r'))
                }
                '%' => self.id(pos)?,
                '"' => self.string(pos)?,
                '<' => {
                    self.bump();
                    if self.peek() != Some('-') {
                        return Err(pos.error("`<-`", "`<` alone"));
                    }
                    self.bump();
                    Token::Arrow
                }
                '-' => self.negative(pos)?,
                c if c.is_ascii_digit() => Token::Number(self.number()),
                c if is_ident_start(c) => Token::Ident(self.take_while(is_ident_char)),
                c => {
                    return Err(pos.error(
                        "a token (a `%id`, a name, a number, a string, `;` or one of `{ } [ ] ( ) : = , <-`)",
                        format!("{c:?}"),
                    ));
                }
            }
        };
        Ok(Located { token, pos })
    }

    /// `%` followed by digits.
    fn id(&mut self, pos: Pos) -> Result<Token<'a>, ParseError> {
        self.bump();
        let digits = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        match digits.parse::<u32>() {
            Ok(n) if digits.bytes().all(|b| b.is_ascii_digit()) => Ok(Token::Id(n)),
            _ => Err(pos.error(
                "a node id: `%` and a number below 2^32 (like `%3`)",
                format!("`%{digits}`"),
            )),
        }
    }

    /// A number's characters: digits, letters, `_` and `.`, and a sign right
    /// after an exponent's `e`. Whether they form a valid number is the
    /// parser's call (it knows which kind it wants).
    fn number(&mut self) -> &'a str {
        let start = self.offset();
        let mut prev = ' ';
        while let Some(c) = self.peek() {
            let sign_of_exponent = matches!(c, '+' | '-') && matches!(prev, 'e' | 'E');
            if !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || sign_of_exponent) {
                break;
            }
            prev = c;
            self.bump();
        }
        let end = self.offset();
        &self.src[start..end]
    }

    /// `-` starts a negative number, `-inf` or `-nan` (a NaN with its sign bit set).
    fn negative(&mut self, pos: Pos) -> Result<Token<'a>, ParseError> {
        let start = self.offset();
        self.bump();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                self.number();
            }
            Some(c) if is_ident_start(c) => {
                let word = self.take_while(is_ident_char);
                if word != "inf" && word != "nan" {
                    return Err(pos.error("a number, `-inf` or `-nan`", format!("`-{word}`")));
                }
            }
            _ => return Err(pos.error("a number, `-inf` or `-nan` after `-`", "`-` alone")),
        }
        let end = self.offset();
        Ok(Token::Number(&self.src[start..end]))
    }

    /// A double-quoted string on one line.
    fn string(&mut self, pos: Pos) -> Result<Token<'a>, ParseError> {
        self.bump();
        let mut out = String::new();
        loop {
            let here = self.pos();
            match self.bump() {
                None => return Err(pos.error("a closing `\"` for this string", "end of input")),
                Some('\n') => {
                    return Err(pos.error("a closing `\"` for this string", "end of line"));
                }
                Some('"') => return Ok(Token::Str(out)),
                Some('\\') => out.push(self.escape(here)?),
                Some(c) => out.push(c),
            }
        }
    }

    /// The character an escape after `\` stands for.
    fn escape(&mut self, pos: Pos) -> Result<char, ParseError> {
        const EXPECTED: &str = "an escape: `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` or `\\u{hex}`";
        match self.bump() {
            Some('"') => Ok('"'),
            Some('\\') => Ok('\\'),
            Some('n') => Ok('\n'),
            Some('t') => Ok('\t'),
            Some('r') => Ok('\r'),
            Some('u') => {
                if self.bump() != Some('{') {
                    return Err(pos.error(EXPECTED, "`\\u` without `{`"));
                }
                let hex = self.take_while(|c| c.is_ascii_hexdigit());
                if self.bump() != Some('}') {
                    return Err(pos.error(EXPECTED, format!("`\\u{{{hex}` without `}}`")));
                }
                u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| pos.error("a Unicode scalar value", format!("`\\u{{{hex}}}`")))
            }
            Some('\n') | None => Err(pos.error(EXPECTED, "end of line")),
            Some(c) => Err(pos.error(EXPECTED, format!("`\\{c}`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<Token<'_>> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token().unwrap().token;
            if t == Token::Eof {
                return out;
            }
            out.push(t);
        }
    }

    #[test]
    fn node_line_tokens() {
        assert_eq!(
            tokens("%4: f32[2,3] = pad %1 value=-inf ; fc.1\n"),
            vec![
                Token::Id(4),
                Token::Colon,
                Token::Ident("f32"),
                Token::LBracket,
                Token::Number("2"),
                Token::Comma,
                Token::Number("3"),
                Token::RBracket,
                Token::Equals,
                Token::Ident("pad"),
                Token::Id(1),
                Token::Ident("value"),
                Token::Equals,
                Token::Number("-inf"),
                Token::Comment(" fc.1"),
                Token::Newline,
            ]
        );
    }

    #[test]
    fn numbers_strings_and_arrows() {
        assert_eq!(
            tokens(r#"1e-8 -3 "a\"b\u{7}" <-"#),
            vec![
                Token::Number("1e-8"),
                Token::Number("-3"),
                Token::Str("a\"b\u{7}".into()),
                Token::Arrow,
            ]
        );
    }

    #[test]
    fn quote_round_trips_through_the_lexer() {
        let s = "a \"b\" \\ c\nd\t\u{1}é";
        assert_eq!(tokens(&quote(s)), vec![Token::Str(s.into())]);
    }

    #[test]
    fn positions_count_characters() {
        let mut lexer = Lexer::new("é\n  %3");
        assert!(lexer.next_token().is_err());
        let mut lexer = Lexer::new("\n  %3");
        lexer.next_token().unwrap();
        let t = lexer.next_token().unwrap();
        assert_eq!(t.pos, Pos { line: 2, column: 3 });
    }

    #[test]
    fn bad_tokens_are_errors() {
        for src in [
            "\"abc",
            "%x",
            "%99999999999",
            "<",
            "-",
            "-x",
            "@",
            "\"\\q\"",
        ] {
            assert!(Lexer::new(src).next_token().is_err(), "{src}");
        }
    }
}
