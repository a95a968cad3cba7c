//! From a seed's addresses to the lab's. The examples keep the seeds' own
//! addresses (192.168.56.0/24, 10.0.9.0/23, 172.20.10.0/24...), which the lab
//! must never send to: lab traffic goes to the documentation ranges only. A
//! [`SeedMap`] says, for one seed, which seed network becomes which lab network
//! (the host part is kept: 192.168.56.183 becomes 192.0.2.183) and which seed
//! interface becomes which NIC of the VM (eth2 becomes eth0). [`derive`]
//! rewrites an example with it, checks that no seed address is left, and
//! validates the result with the agent's own config loader.
//!
//! The rewrite is textual on purpose: the lab file is the example line for
//! line (comments aside), so a reader can diff the two.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use crate::lab::ensure_lab_address;
use lvs_config::model::{Appliance, HttpContent, Role};

/// An IPv4 network written `a.b.c.d/len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    pub base: Ipv4Addr,
    pub len: u8,
}

impl Net {
    pub fn parse(text: &str) -> Result<Net, String> {
        let (ip, len) = text.split_once('/').ok_or_else(|| format!("{text:?} is not a.b.c.d/len"))?;
        let base: Ipv4Addr = ip.parse().map_err(|_| format!("{text:?}: bad address"))?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32).ok_or_else(|| format!("{text:?}: bad prefix length"))?;
        if u32::from(base) & !mask(len) != 0 {
            return Err(format!("{text:?} has host bits set"));
        }
        Ok(Net { base, len })
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.len) == u32::from(self.base)
    }
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

/// How one seed's machines are renamed and renumbered for the lab.
#[derive(Clone, Copy, Debug)]
pub struct SeedMap {
    /// (seed network, lab network), of equal prefix length.
    pub networks: &'static [(&'static str, &'static str)],
    /// (seed prefix length, lab prefix length) for interface addresses whose
    /// seed subnet is wider than the network mapped (000's /23 where every
    /// host sits in one /24): anything else wider is refused.
    pub narrowed: &'static [(u8, u8)],
    /// (seed interface, lab interface). A lab VM's NICs are eth0, eth1... in
    /// the order the scenario plugs them.
    pub interfaces: &'static [(&'static str, &'static str)],
}

impl SeedMap {
    fn nets(&self) -> Result<Vec<(Net, Net)>, String> {
        self.networks
            .iter()
            .map(|(from, to)| {
                let (from, to) = (Net::parse(from)?, Net::parse(to)?);
                if from.len != to.len {
                    return Err(format!("{from:?} -> {to:?}: the prefix lengths differ"));
                }
                ensure_lab_address(IpAddr::V4(to.base)).map_err(|e| e.to_string())?;
                Ok((from, to))
            })
            .collect()
    }

    /// One seed address in the lab: the lab network's prefix with the seed
    /// address's host part.
    pub fn address(&self, seed: Ipv4Addr) -> Result<Ipv4Addr, String> {
        for (from, to) in self.nets()? {
            if from.contains(seed) {
                let host = u32::from(seed) & !mask(from.len);
                return Ok(Ipv4Addr::from(u32::from(to.base) | host));
            }
        }
        Err(format!("{seed} is in none of the mapped seed networks {:?}", self.networks))
    }

    /// `a.b.c.d` or `a.b.c.d/len` (a client's address on a bridge).
    pub fn cidr(&self, seed: &str) -> Result<String, String> {
        let mapped = map_addresses(seed, self)?;
        Ok(mapped)
    }

    /// Whether `ip` is in one of the seed networks.
    pub fn is_seed(&self, ip: Ipv4Addr) -> bool {
        self.nets().map(|nets| nets.iter().any(|(from, _)| from.contains(ip))).unwrap_or(false)
    }

    /// One line per rule, for the header of a derived file and for docs.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.networks.iter().map(|(f, t)| format!("{f} -> {t}")).collect();
        parts.extend(self.narrowed.iter().map(|(f, t)| format!("/{f} -> /{t}")));
        parts.extend(self.interfaces.iter().map(|(f, t)| format!("{f} -> {t}")));
        parts.join(", ")
    }
}

/// A change to the example besides renumbering, made on the seed's text
/// before mapping. `from` must occur exactly once.
#[derive(Clone, Copy, Debug)]
pub struct Edit {
    pub from: &'static str,
    pub to: &'static str,
    /// Goes into the derived file's header.
    pub why: &'static str,
}

/// The second real server of a pair: the examples write one real server of
/// each setup and say the other "differs only in its address" (and name).
#[derive(Clone, Copy, Debug)]
pub struct Twin {
    /// (the example's address, the twin's), seed side.
    pub address: (&'static str, &'static str),
    /// (the example's name, the twin's): replaced as a whole word inside
    /// strings, so the hostname and a body naming the server both change.
    pub name: (&'static str, &'static str),
}

/// A lab config derived from an example.
#[derive(Clone, Debug)]
pub struct Derived {
    /// Where it came from (a path relative to the repository).
    pub source: String,
    pub text: String,
    pub model: Appliance,
}

impl Derived {
    /// The first address of the first interface: the machine's own address
    /// on its first NIC.
    pub fn own_address(&self) -> Option<IpAddr> {
        self.model.interfaces.first()?.addresses.first().map(|n| n.addr())
    }

    pub fn hostname(&self) -> &str {
        self.model.hostname.as_deref().unwrap_or("?")
    }

    /// The body the built-in HTTP server answers with, if it serves a fixed one.
    pub fn http_body(&self) -> Option<&str> {
        match &self.model.role {
            Role::RealServer(rs) => match rs.http.as_ref().map(|h| &h.content) {
                Some(HttpContent::Body(body)) => Some(body),
                _ => None,
            },
            Role::Director(_) => None,
        }
    }
}

/// Rewrites `text` (the example at `source`) for the lab:
///
/// 1. whole-line `//` comments go (they quote seed addresses and names); a
///    header saying where the file comes from and how it was mapped replaces them;
/// 2. each [`Edit`], then the [`Twin`], on the seed's text;
/// 3. every IPv4 address anywhere in the text through `map` (an address in no
///    mapped network is an error, not left as it was);
/// 4. every string that is exactly a seed interface name, to its lab name.
///
/// Then it checks the result: it must validate with no warnings, every
/// address in it must be a lab address and none a seed one, and every
/// interface it names must be one of `nics` (or lo, tunl0, all).
pub fn derive(
    source: &str,
    text: &str,
    map: &SeedMap,
    edits: &[Edit],
    twin: Option<&Twin>,
    nics: &[&str],
) -> Result<Derived, String> {
    let fail = |message: String| format!("deriving a lab config from {source}: {message}");
    let mut body: String =
        text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
    for edit in edits {
        let n = body.matches(edit.from).count();
        if n != 1 {
            return Err(fail(format!("edit {:?} -> {:?} matches {n} times, not once", edit.from, edit.to)));
        }
        body = body.replacen(edit.from, edit.to, 1);
    }
    if let Some(twin) = twin {
        let (from, to) = twin.address;
        let before = body.clone();
        body = replace_address(&body, from, to);
        if body == before {
            return Err(fail(format!("twin: {from} does not occur")));
        }
        let renamed = rename_in_strings(&body, twin.name.0, twin.name.1);
        if renamed == body {
            return Err(fail(format!("twin: name {:?} does not occur in any string", twin.name.0)));
        }
        body = renamed;
    }
    // The header goes through the mapping with the body: it quotes the edits,
    // and no seed address may stay in the file, not even in a comment.
    let mut header = format!("// Lab config derived from {source} by lvs_tests::roles (regenerated on every run;\n");
    header.push_str("// docs/LAB.md gives the address and interface mapping of each scenario).\n");
    for edit in edits {
        let _ = writeln!(header, "// Edit: {} -> {}: {}", edit.from, edit.to, edit.why);
    }
    if let Some(twin) = twin {
        let _ = writeln!(
            header,
            "// The second real server: {} as {}, named {}.",
            twin.address.0, twin.address.1, twin.name.1
        );
    }
    let text = map_addresses(&(header + &body), map).map_err(&fail)?;
    let text = map_interfaces(&text, map);

    let loaded = lvs_config::parse(&text, std::path::Path::new(source))
        .map_err(|e| fail(format!("the result is invalid:\n{e}\n--- derived text ---\n{text}")))?;
    if !loaded.warnings.is_empty() {
        let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
        return Err(fail(format!("the result has warnings:\n{}\n--- derived text ---\n{text}", warnings.join("\n"))));
    }
    let derived = Derived { source: source.to_string(), text, model: loaded.model };
    check_lab_only(&derived, map, nics).map_err(fail)?;
    Ok(derived)
}

/// The safety net behind the rewrite: every IPv4 literal in the text, and
/// every address and interface in the model, belongs to the lab.
pub fn check_lab_only(derived: &Derived, map: &SeedMap, nics: &[&str]) -> Result<(), String> {
    for token in ipv4_tokens(&derived.text) {
        let ip: Ipv4Addr =
            token.address.parse().map_err(|_| format!("{:?} looks like an address but is not one", token.address))?;
        if map.is_seed(ip) {
            return Err(format!("seed address {ip} is still in the derived text"));
        }
        ensure_lab_address(IpAddr::V4(ip)).map_err(|e| format!("{ip} in the derived text: {e}"))?;
    }
    let m = &derived.model;
    let mut addresses: Vec<IpAddr> = Vec::new();
    let mut interfaces: Vec<&str> = Vec::new();
    for i in &m.interfaces {
        interfaces.push(&i.name);
        addresses.extend(i.addresses.iter().map(|n| n.addr()));
    }
    for r in &m.routes {
        if r.destination.prefix_len() != 0 {
            addresses.push(r.destination.addr());
        }
        addresses.extend(r.gateway);
        interfaces.extend(r.interface.as_deref());
    }
    match &m.role {
        Role::Director(d) => {
            for v in &d.vips {
                addresses.push(v.address);
                interfaces.push(&v.interface);
            }
            for s in &d.services {
                if let lvs_ipvs::ServiceKey::Inet { addr, .. } = &s.service.key {
                    addresses.push(addr.ip());
                }
                addresses.extend(s.real_servers.iter().map(|r| r.dest.addr.ip()));
                addresses.extend(s.sorry_server.iter().map(|d| d.addr.ip()));
            }
            interfaces.extend(d.sync_daemons.iter().map(|s| s.interface.as_str()));
        }
        Role::RealServer(rs) => {
            addresses.extend(rs.vips.iter().copied());
            addresses.extend(rs.gateway);
            interfaces.extend(rs.arp.interfaces.iter().map(String::as_str));
            interfaces.extend(rs.rp_filter.iter().flat_map(|(_, ifs)| ifs.iter().map(String::as_str)));
        }
    }
    for ip in addresses {
        ensure_lab_address(ip).map_err(|e| format!("{ip} in the derived config: {e}"))?;
    }
    for name in interfaces {
        if !nics.contains(&name) && !["lo", "tunl0", "all", "default"].contains(&name) {
            return Err(format!(
                "interface {name:?} is not a NIC of this VM ({nics:?}): add it to the map's interfaces"
            ));
        }
    }
    Ok(())
}

struct Token {
    start: usize,
    end: usize,
    address: String,
    /// `/len` right after the address, if any (start of the digits, value).
    prefix: Option<(usize, usize, String)>,
}

/// Runs of digits and dots with exactly three dots, not inside a longer run
/// of digits, dots or letters (so `v1.2.3.4x` or a version string is not taken).
fn ipv4_tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let end = i;
        let run = &text[start..end];
        if run.matches('.').count() != 3
            || run.ends_with('.')
            || (end < bytes.len() && bytes[end].is_ascii_alphabetic())
        {
            continue;
        }
        let prefix = (end < bytes.len() && bytes[end] == b'/')
            .then(|| {
                let digits_end =
                    bytes[end + 1..].iter().position(|b| !b.is_ascii_digit()).map_or(bytes.len(), |p| end + 1 + p);
                (digits_end > end + 1).then(|| (end + 1, digits_end, text[end + 1..digits_end].to_string()))
            })
            .flatten();
        tokens.push(Token { start, end, address: run.to_string(), prefix });
    }
    tokens
}

fn map_addresses(text: &str, map: &SeedMap) -> Result<String, String> {
    let nets = map.nets()?;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for token in ipv4_tokens(text) {
        let ip: Ipv4Addr =
            token.address.parse().map_err(|_| format!("{:?} looks like an address but is not one", token.address))?;
        let Some((from, _)) = nets.iter().find(|(from, _)| from.contains(ip)) else {
            return Err(format!("{ip} is in none of the mapped seed networks {:?}", map.networks));
        };
        out.push_str(&text[at..token.start]);
        out.push_str(&map.address(ip)?.to_string());
        at = token.end;
        if let Some((p_start, p_end, len)) = &token.prefix {
            let len: u8 = len.parse().map_err(|_| format!("{ip}/{len}: bad prefix length"))?;
            let lab_len = if len >= from.len {
                len
            } else if let Some((_, to)) = map.narrowed.iter().find(|(f, _)| *f == len) {
                *to
            } else {
                return Err(format!(
                    "{ip}/{len} is wider than the mapped network {}/{}: say how to narrow it in the map",
                    from.base, from.len
                ));
            };
            out.push_str(&text[at..*p_start]);
            out.push_str(&lab_len.to_string());
            at = *p_end;
        }
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Replaces the address `from` where it stands as a whole address.
fn replace_address(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for token in ipv4_tokens(text) {
        if token.address == from {
            out.push_str(&text[at..token.start]);
            out.push_str(to);
            at = token.end;
        }
    }
    out.push_str(&text[at..]);
    out
}

/// Applies `f` to the content of every `"..."` string (RON escapes kept).
fn map_strings(text: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let mut close = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    close = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(close) = close else {
            out.push_str(after);
            return out;
        };
        out.push_str(&f(&after[..close]));
        out.push('"');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn map_interfaces(text: &str, map: &SeedMap) -> String {
    map_strings(text, |s| {
        map.interfaces.iter().find(|(from, _)| *from == s).map_or_else(|| s.to_string(), |(_, to)| to.to_string())
    })
}

/// `from` -> `to` inside strings, where `from` is a whole word: not touching
/// a letter, digit or `-` (a RON escape like `\n` after it is a boundary).
fn rename_in_strings(text: &str, from: &str, to: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
    map_strings(text, |s| {
        let mut out = String::new();
        let mut at = 0;
        for (i, _) in s.match_indices(from) {
            let before = s[..i].chars().next_back();
            let after = s[i + from.len()..].chars().next();
            if !word(before) && !word(after) {
                out.push_str(&s[at..i]);
                out.push_str(to);
                at = i + from.len();
            }
        }
        out.push_str(&s[at..]);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: SeedMap = SeedMap {
        networks: &[("192.168.56.0/24", "192.0.2.0/24"), ("10.0.9.0/24", "198.51.100.0/24")],
        narrowed: &[(23, 24)],
        interfaces: &[("eth2", "eth0")],
    };

    #[test]
    fn addresses_keep_their_host_part_and_prefixes_are_narrowed_only_when_said() {
        assert_eq!(
            map_addresses("\"192.168.56.183:80\" \"10.0.9.236/23\" \"192.168.56.1/24\"", &MAP).unwrap(),
            "\"192.0.2.183:80\" \"198.51.100.236/24\" \"192.0.2.1/24\""
        );
        assert!(map_addresses("\"10.0.9.236/22\"", &MAP).unwrap_err().contains("wider"));
        assert!(map_addresses("\"172.16.0.1\"", &MAP).unwrap_err().contains("none of the mapped"));
        // Not addresses: durations, versions, numbers.
        assert_eq!(map_addresses("\"1.5s\" v1.2.3.4 1.2.3", &MAP).unwrap(), "\"1.5s\" v1.2.3.4 1.2.3");
    }

    #[test]
    fn interfaces_are_renamed_only_as_whole_strings() {
        assert_eq!(
            map_interfaces("name: \"eth2\", x: \"eth22\", y: \"lo\"", &MAP),
            "name: \"eth0\", x: \"eth22\", y: \"lo\""
        );
    }

    #[test]
    fn a_twin_name_is_replaced_as_a_word_in_strings_only() {
        let text = "hostname: \"rs1\", body: \"rs1\\n\", x: \"rs10\", y: \"a-rs1\", rs1: 1";
        assert_eq!(
            rename_in_strings(text, "rs1", "rs2"),
            "hostname: \"rs2\", body: \"rs2\\n\", x: \"rs10\", y: \"a-rs1\", rs1: 1"
        );
    }

    #[test]
    fn derive_maps_checks_and_refuses_leftovers() {
        let example = "// Seed 001: rs1 at 192.168.56.183 on eth2\nAppliance(\n    hostname: \"rs1\",\n    interfaces: [Interface(name: \"eth2\", addresses: [\"192.168.56.183/24\"])],\n    role: RealServer(mode: DirectRouting, vips: [\"192.168.56.185\"], http: StaticHttp(body: \"rs1\\n\")),\n)\n";
        let twin = Twin { address: ("192.168.56.183", "192.168.56.184"), name: ("rs1", "rs2") };
        let d = derive("x.ron", example, &MAP, &[], Some(&twin), &["eth0"]).unwrap();
        assert_eq!(d.hostname(), "rs2");
        assert_eq!(d.own_address(), Some("192.0.2.184".parse().unwrap()));
        assert_eq!(d.http_body(), Some("rs2\n"));
        assert!(!d.text.contains("192.168.") && !d.text.contains("eth2"), "{}", d.text);
        // An interface the VM does not have.
        let err = derive("x.ron", example, &SeedMap { interfaces: &[], ..MAP }, &[], None, &["eth0"]).unwrap_err();
        assert!(err.contains("\"eth2\" is not a NIC"), "{err}");
        // An edit that does not match exactly once.
        let edit = Edit { from: "weight: 2", to: "weight: 1", why: "test" };
        assert!(derive("x.ron", example, &MAP, &[edit], None, &["eth0"]).unwrap_err().contains("matches 0 times"));
    }
}
