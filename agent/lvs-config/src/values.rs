//! Small value types written as strings in the RON file ("2s", "192.0.2.1:80",
//! "200-299"). Each parses while ron reads the file, so ron's own position
//! points at a bad value. Their errors read "what is wrong; what to do": the
//! part after the first "; " is shown as the help line.

pub use lvs_ipvs::Endpoint;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

/// Implements Serialize and Deserialize through Display and FromStr.
macro_rules! serde_via_str {
    ($ty:ty, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// A duration written the way people write them: "2s", "500ms", "1m 30s".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(pub Duration);

/// A value of this module that cannot be read, with the text or number as
/// written. Each reads "what is wrong; what to do".
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("`{text}` is not a duration ({reason}); write it like \"2s\" or \"500ms\"")]
    Duration { text: String, reason: humantime::DurationError },
    #[error("`{text}` is not a status code or range; write 200 or \"200-299\"")]
    Status { text: String },
    #[error("HTTP status {lo}-{hi} is not a code or range between 100 and 599; write 200 or \"200-299\"")]
    StatusRange { lo: u64, hi: u64 },
    #[error("a status code is positive; write 200 or \"200-299\"")]
    NegativeStatus { code: i64 },
}

impl FromStr for Span {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        humantime::parse_duration(s).map(Span).map_err(|reason| ValueError::Duration { text: s.to_string(), reason })
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

serde_via_str!(Span, "a duration such as \"2s\" or \"500ms\"");

impl Span {
    pub fn from_secs(secs: u64) -> Span {
        Span(Duration::from_secs(secs))
    }
}

/// Accepted HTTP status codes: a code (200) or a range ("200-299").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatusSpec(pub RangeInclusive<u16>);

impl StatusSpec {
    fn checked(lo: u64, hi: u64) -> Result<StatusSpec, ValueError> {
        if !(100..=599).contains(&lo) || !(100..=599).contains(&hi) || lo > hi {
            return Err(ValueError::StatusRange { lo, hi });
        }
        Ok(StatusSpec(lo as u16..=hi as u16))
    }
}

impl FromStr for StatusSpec {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::Status { text: s.to_string() };
        let (lo, hi) = match s.split_once('-') {
            Some((lo, hi)) => (lo.trim(), hi.trim()),
            None => (s.trim(), s.trim()),
        };
        let lo = lo.parse::<u64>().map_err(|_| bad())?;
        let hi = hi.parse::<u64>().map_err(|_| bad())?;
        StatusSpec::checked(lo, hi)
    }
}

impl Serialize for StatusSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.start() == self.0.end() {
            s.serialize_u16(*self.0.start())
        } else {
            s.collect_str(&format_args!("{}-{}", self.0.start(), self.0.end()))
        }
    }
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code such as 200, or a range such as \"200-299\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                StatusSpec::checked(v, v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                let v = u64::try_from(v).map_err(|_| E::custom(ValueError::NegativeStatus { code: v }))?;
                self.visit_u64(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSpec, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_human_durations() {
        assert_eq!("2s".parse::<Span>().unwrap().0, Duration::from_secs(2));
        assert_eq!("500ms".parse::<Span>().unwrap().0, Duration::from_millis(500));
        assert_eq!("1m 30s".parse::<Span>().unwrap().0, Duration::from_secs(90));
        assert!("2".parse::<Span>().unwrap_err().to_string().contains("\"2s\""));
    }

    #[test]
    fn status_specs_are_codes_or_ranges() {
        assert_eq!("200-299".parse::<StatusSpec>().unwrap().0, 200..=299);
        assert_eq!("204".parse::<StatusSpec>().unwrap().0, 204..=204);
        assert!("299-200".parse::<StatusSpec>().is_err());
        assert!("700".parse::<StatusSpec>().is_err());
    }

    #[test]
    fn errors_name_the_value_and_say_what_to_write() {
        let e = "2".parse::<Span>().unwrap_err();
        assert!(matches!(&e, ValueError::Duration { text, .. } if text == "2"));
        assert_eq!(
            e.to_string(),
            "`2` is not a duration (time unit needed, for example 2sec or 2ms); write it like \"2s\" or \"500ms\""
        );
        assert_eq!("2xx".parse::<StatusSpec>().unwrap_err(), ValueError::Status { text: "2xx".to_string() });
        assert_eq!(
            "2xx".parse::<StatusSpec>().unwrap_err().to_string(),
            "`2xx` is not a status code or range; write 200 or \"200-299\""
        );
        assert_eq!(
            "299-200".parse::<StatusSpec>().unwrap_err().to_string(),
            "HTTP status 299-200 is not a code or range between 100 and 599; write 200 or \"200-299\""
        );
    }
}
