//! What to write, from what the config wants, what the kernel has and what
//! the record says. Pure: the steps are carried out by [`super::exec`].

use super::desired::{display_name, Setting};
use super::observed::Observed;
use super::record::{Changed, Entry};
use std::collections::BTreeMap;
use std::io::ErrorKind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Write `to` over `from`. A key the record does not know yet goes on
    /// record with `from` as its original before the write.
    Set { key: Vec<String>, from: String, to: String },
    /// Already `value`: nothing is written, and a recorded key's last written
    /// value follows it, so that a later put back takes it for the agent's.
    Keep { key: Vec<String>, value: String },
    /// Write the recorded original back over the value the agent wrote, then
    /// forget the key.
    PutBack { key: Vec<String>, from: String, to: String },
    /// Someone changed the value after the agent wrote it: it stays, the key
    /// is forgotten, and the note says so.
    Leave { key: Vec<String>, note: String },
    /// Nothing to put back (the value is the original already, or the key is
    /// gone): forgotten, with a note when there is something to say.
    Forget { key: Vec<String>, note: Option<String> },
    /// The value could not be read, so nothing is written: a failure to set
    /// `value` (or to put it back), and a recorded key stays recorded so that
    /// the next call tries again.
    CannotRead { key: Vec<String>, put_back: bool, value: String },
}

/// The steps that make each of `settings` hold its value, in order.
pub fn set(settings: &[Setting], observed: &Observed) -> Vec<Step> {
    // What earlier steps will have written: a key named twice is read once.
    let mut written: BTreeMap<&[String], &str> = BTreeMap::new();
    let mut steps = Vec::new();
    for s in settings {
        let current = match written.get(s.key.as_slice()) {
            Some(value) => Some(*value),
            None => observed.get(&s.key).and_then(|r| r.value.as_deref().ok()),
        };
        steps.push(match current {
            Some(current) if current == s.value => Step::Keep { key: s.key.clone(), value: s.value.clone() },
            Some(current) => {
                let step = Step::Set { key: s.key.clone(), from: current.to_string(), to: s.value.clone() };
                written.insert(&s.key, &s.value);
                step
            }
            None => Step::CannotRead { key: s.key.clone(), put_back: false, value: s.value.clone() },
        });
    }
    steps
}

/// The recorded keys that none of `settings` sets, in the record's order.
pub fn dropped<'a>(settings: &'a [Setting], record: &'a Changed) -> impl Iterator<Item = &'a Entry> {
    record.keys.iter().filter(|e| !settings.iter().any(|s| s.key == e.key))
}

/// The steps that put back each key the agent changed and `settings` no
/// longer sets, unless someone changed it since.
pub fn put_back(settings: &[Setting], observed: &Observed, record: &Changed) -> Vec<Step> {
    let mut steps = Vec::new();
    for entry in dropped(settings, record) {
        let (key, name) = (entry.key.clone(), display_name(&entry.key));
        steps.push(match observed.get(&entry.key).map(|r| &r.value) {
            Some(Ok(current)) if *current == entry.original => Step::Forget { key, note: None },
            Some(Ok(current)) if *current == entry.wrote => {
                Step::PutBack { key, from: current.clone(), to: entry.original.clone() }
            }
            Some(Ok(current)) => Step::Leave {
                key,
                note: format!(
                    "left sysctl {name} at {current}: it was changed after the agent set it to {} (it was {} before)",
                    entry.wrote, entry.original
                ),
            },
            Some(Err(e)) if e.kind() == ErrorKind::NotFound => Step::Forget {
                key,
                note: Some(format!("sysctl {name} is gone (its interface was removed?): nothing to put back")),
            },
            _ => Step::CannotRead { key, put_back: true, value: entry.original.clone() },
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysctl::fixture::set as setting;
    use crate::sysctl::observed::Reading;
    use std::io;

    fn key(path: &str) -> Vec<String> {
        path.split('/').map(String::from).collect()
    }

    fn observed(readings: &[(&str, Result<&str, ErrorKind>)]) -> Observed {
        let mut observed = Observed::default();
        for (path, value) in readings {
            let value = value.map(String::from).map_err(io::Error::from);
            observed.insert(key(path), Reading { path: format!("/proc/sys/{path}").into(), value });
        }
        observed
    }

    fn entry(path: &str, original: &str, wrote: &str) -> Entry {
        Entry { key: key(path), original: original.into(), wrote: wrote.into() }
    }

    #[test]
    fn set_writes_what_differs_keeps_what_does_not_and_fails_what_cannot_be_read() {
        let settings = [
            setting(&["net", "ipv4", "ip_forward"], "1"),
            setting(&["net", "ipv4", "conf", "all", "rp_filter"], "0"),
            setting(&["net", "ipv4", "vs", "conntrack"], "1"),
            setting(&["net", "ipv4", "conf", "eth7", "rp_filter"], "0"),
        ];
        let seen = observed(&[
            ("net/ipv4/ip_forward", Ok("0")),
            ("net/ipv4/conf/all/rp_filter", Ok("0")),
            ("net/ipv4/vs/conntrack", Err(ErrorKind::NotFound)),
            ("net/ipv4/conf/eth7/rp_filter", Err(ErrorKind::PermissionDenied)),
        ]);
        assert_eq!(
            set(&settings, &seen),
            [
                Step::Set { key: key("net/ipv4/ip_forward"), from: "0".into(), to: "1".into() },
                Step::Keep { key: key("net/ipv4/conf/all/rp_filter"), value: "0".into() },
                Step::CannotRead { key: key("net/ipv4/vs/conntrack"), put_back: false, value: "1".into() },
                Step::CannotRead { key: key("net/ipv4/conf/eth7/rp_filter"), put_back: false, value: "0".into() },
            ]
        );
        assert_eq!(
            set(&settings[..1], &Observed::default()),
            [Step::CannotRead { key: key("net/ipv4/ip_forward"), put_back: false, value: "1".into() }],
            "a key that was not read is not written"
        );
    }

    #[test]
    fn a_key_set_twice_starts_the_second_time_from_the_first_value() {
        let settings = [setting(&["net", "ipv4", "ip_forward"], "1"), setting(&["net", "ipv4", "ip_forward"], "1")];
        let seen = observed(&[("net/ipv4/ip_forward", Ok("0"))]);
        assert_eq!(
            set(&settings, &seen),
            [
                Step::Set { key: key("net/ipv4/ip_forward"), from: "0".into(), to: "1".into() },
                Step::Keep { key: key("net/ipv4/ip_forward"), value: "1".into() },
            ]
        );
    }

    #[test]
    fn put_back_restores_the_agents_values_only() {
        let record = Changed {
            keys: vec![
                entry("net/ipv4/ip_forward", "0", "1"),             // still set: not touched
                entry("net/ipv4/conf/lo/arp_ignore", "0", "1"),     // the agent's value: put back
                entry("net/ipv4/conf/all/arp_ignore", "0", "1"),    // at its original already
                entry("net/ipv4/conf/all/arp_announce", "0", "2"),  // a person's value since
                entry("net/ipv4/conf/v0.100/arp_ignore", "0", "1"), // its interface is gone
                entry("net/ipv4/conf/all/rp_filter", "1", "0"),     // cannot be read
            ],
        };
        let seen = observed(&[
            ("net/ipv4/conf/lo/arp_ignore", Ok("1")),
            ("net/ipv4/conf/all/arp_ignore", Ok("0")),
            ("net/ipv4/conf/all/arp_announce", Ok("7")),
            ("net/ipv4/conf/v0.100/arp_ignore", Err(ErrorKind::NotFound)),
            ("net/ipv4/conf/all/rp_filter", Err(ErrorKind::PermissionDenied)),
        ]);
        let settings = [setting(&["net", "ipv4", "ip_forward"], "1")];
        assert_eq!(
            dropped(&settings, &record).map(|e| display_name(&e.key)).collect::<Vec<_>>(),
            [
                "net.ipv4.conf.lo.arp_ignore",
                "net.ipv4.conf.all.arp_ignore",
                "net.ipv4.conf.all.arp_announce",
                "net.ipv4.conf.v0/100.arp_ignore",
                "net.ipv4.conf.all.rp_filter",
            ]
        );
        assert_eq!(
            put_back(&settings, &seen, &record),
            [
                Step::PutBack { key: key("net/ipv4/conf/lo/arp_ignore"), from: "1".into(), to: "0".into() },
                Step::Forget { key: key("net/ipv4/conf/all/arp_ignore"), note: None },
                Step::Leave {
                    key: key("net/ipv4/conf/all/arp_announce"),
                    note: "left sysctl net.ipv4.conf.all.arp_announce at 7: it was changed after the agent set it \
                           to 2 (it was 0 before)"
                        .into(),
                },
                Step::Forget {
                    key: key("net/ipv4/conf/v0.100/arp_ignore"),
                    note: Some(
                        "sysctl net.ipv4.conf.v0/100.arp_ignore is gone (its interface was removed?): \
                         nothing to put back"
                            .into()
                    ),
                },
                Step::CannotRead { key: key("net/ipv4/conf/all/rp_filter"), put_back: true, value: "1".into() },
            ]
        );
        assert_eq!(put_back(&settings, &seen, &Changed::default()), [], "nothing recorded, nothing to put back");
    }
}
