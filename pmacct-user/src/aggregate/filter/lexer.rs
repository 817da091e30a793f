//! Tokens of a pcap-filter expression.

use super::FilterError;

/// One token with the byte offset where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub pos: usize,
}

/// Token kinds. Keywords (`host`, `and`, ...) stay [`Tok::Word`]s; the parser decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// Identifier, number, address, prefix or range (`host`, `80`, `10.0.0.0/8`, `1-1024`).
    Word(String),
    LParen,
    RParen,
    /// `!`
    Bang,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
}

impl Tok {
    /// The token as written, for error messages.
    pub fn text(&self) -> &str {
        match self {
            Tok::Word(w) => w,
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Bang => "!",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '-' | '_' | '\\')
}

/// Splits `input` into tokens; a character pcap-filter uses for constructs we do not support
/// (`[`, `&`, `=`, `<`, ...) is an error naming it and its position.
pub fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut it = input.char_indices().peekable();
    while let Some((pos, c)) = it.next() {
        let kind = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '!' if it.peek().is_some_and(|&(_, n)| n == '=') => {
                return Err(FilterError::Unsupported { token: "!=".into(), pos });
            }
            '!' => Tok::Bang,
            '&' if it.next_if(|&(_, n)| n == '&').is_some() => Tok::AndAnd,
            '|' if it.next_if(|&(_, n)| n == '|').is_some() => Tok::OrOr,
            c if is_word_char(c) => {
                let mut end = pos + c.len_utf8();
                while let Some((i, n)) = it.next_if(|&(_, n)| is_word_char(n)) {
                    end = i + n.len_utf8();
                }
                Tok::Word(input[pos..end].to_string())
            }
            c => return Err(FilterError::Unsupported { token: c.to_string(), pos }),
        };
        out.push(Token { kind, pos });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_and_operators() {
        assert_eq!(
            kinds("!(src net 10.0.0.0/8)&&port 1-1024 || ip6 host ::1"),
            vec![
                Tok::Bang,
                Tok::LParen,
                Tok::Word("src".into()),
                Tok::Word("net".into()),
                Tok::Word("10.0.0.0/8".into()),
                Tok::RParen,
                Tok::AndAnd,
                Tok::Word("port".into()),
                Tok::Word("1-1024".into()),
                Tok::OrOr,
                Tok::Word("ip6".into()),
                Tok::Word("host".into()),
                Tok::Word("::1".into()),
            ]
        );
    }

    #[test]
    fn unsupported_characters_are_named_with_position() {
        assert_eq!(lex("tcp[13] & 2"), Err(FilterError::Unsupported { token: "[".into(), pos: 3 }));
        assert_eq!(lex("len != 3"), Err(FilterError::Unsupported { token: "!=".into(), pos: 4 }));
        assert_eq!(lex("a & b"), Err(FilterError::Unsupported { token: "&".into(), pos: 2 }));
    }
}
