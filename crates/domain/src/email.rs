//! Email addresses a user receives reminders at: one plausible `local@domain` address, checked
//! the same way whether it comes from the user's settings or from the token's `email` claim.

/// Longest accepted address, in bytes (RFC 5321's path limit less the angle brackets).
pub const MAX_LEN: usize = 254;
/// Longest local part, in bytes (RFC 5321).
pub const MAX_LOCAL_LEN: usize = 64;

/// Why an address is refused (the message names the rule, never echoes the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty after trimming.
    #[error("the address is empty")]
    Empty,
    /// Longer than [`MAX_LEN`] bytes.
    #[error("the address is longer than {MAX_LEN} bytes")]
    TooLong,
    /// Whitespace or control characters.
    #[error("the address must not contain whitespace or control characters")]
    Whitespace,
    /// Not exactly one `@`, or a list of addresses.
    #[error("the address must be one local@domain address")]
    Shape,
    /// Local part empty, longer than [`MAX_LOCAL_LEN`] or with characters outside the
    /// unquoted local-part set.
    #[error("the part before @ must be 1 to {MAX_LOCAL_LEN} characters of letters, digits and !#$%&'*+/=?^_`{{|}}~.- without leading, trailing or double dots")]
    Local,
    /// Domain not dot-separated labels of letters, digits and hyphens with a dot.
    #[error("the domain must be dot-separated labels of letters, digits and hyphens, such as example.com")]
    Domain,
}

/// A validated email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses one address, kept as written (whitespace anywhere, even around it, is refused).
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Whitespace);
        }
        if s.contains([',', ';', '<', '>', '"', '(', ')', '[', ']', '\\', ':']) {
            return Err(EmailError::Shape);
        }
        let (local, domain) = match s.split_once('@') {
            Some((l, d)) if !d.contains('@') => (l, d),
            _ => return Err(EmailError::Shape),
        };
        let local_ok = !local.is_empty()
            && local.len() <= MAX_LOCAL_LEN
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c) || !c.is_ascii()
            });
        if !local_ok {
            return Err(EmailError::Local);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
            });
        if !domain_ok {
            return Err(EmailError::Domain);
        }
        Ok(Self(s.to_string()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_are_kept_as_written() {
        for ok in [
            "alice@example.com",
            "a.b+tag@mail.example.co.uk",
            "o'brien@example.org",
            "ünï@exämple.de",
            "x@a-b.io",
        ] {
            assert_eq!(
                EmailAddress::parse(ok).map(|e| e.0),
                Ok(ok.trim().to_string())
            );
        }
    }

    #[test]
    fn each_rule_has_its_error() {
        let long = format!("{}@{}.com", "a".repeat(60), "b".repeat(200));
        for (bad, why) in [
            ("", EmailError::Empty),
            ("   ", EmailError::Whitespace),
            (" a@example.com", EmailError::Whitespace),
            (long.as_str(), EmailError::TooLong),
            ("a b@example.com", EmailError::Whitespace),
            ("a@example.com\r\nBcc: x@y.z", EmailError::Whitespace),
            ("a\u{0}@example.com", EmailError::Whitespace),
            ("a@example.com,b@example.com", EmailError::Shape),
            ("Alice<a@example.com>", EmailError::Shape),
            ("example.com", EmailError::Shape),
            ("a@b@example.com", EmailError::Shape),
            ("@example.com", EmailError::Local),
            (".a@example.com", EmailError::Local),
            ("a..b@example.com", EmailError::Local),
            ("a@localhost", EmailError::Domain),
            ("a@-x.com", EmailError::Domain),
            ("a@x..com", EmailError::Domain),
            ("a@x_y.com", EmailError::Domain),
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(why), "{bad:?}");
        }
        let local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(EmailAddress::parse(&local), Err(EmailError::Local));
    }
}
