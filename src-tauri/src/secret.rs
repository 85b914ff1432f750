//! `Sensitive<T>`: the only type a secret (GitHub token, provider API key) travels in.
//!
//! Its `Debug` and `Display` print `<redacted>` and it deliberately implements neither
//! `Serialize` nor `Clone`-free conversions to `String`, so a token cannot reach a log line,
//! a settings file or the webview by accident. Read it with [`Sensitive::expose`], and only
//! where the value must leave the process (the CLI's environment, the keychain).

use std::fmt;

pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Every call site is a place a reviewer should look at.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> Clone for Sensitive<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let token = Sensitive::new("gho_supersecret".to_string());
        assert_eq!(format!("{token:?}"), "<redacted>");
        assert_eq!(format!("{token}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&token)), "Some(<redacted>)");
        assert_eq!(token.expose(), "gho_supersecret");
    }
}
