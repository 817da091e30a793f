//! pmacct's variables in message-broker names (`handle_dynname_internal_strings` in pmacct
//! 1.7's `util.c`): `kafka_topic`, `amqp_routing_key` and `kafka_partition_key` may hold
//! `$peer_src_ip`, `$tag`, `$tag2`, `$post_tag`, `$post_tag2`; a partition key also `$src_host`,
//! `$dst_host`, `$src_port`, `$dst_port`, `$proto`, `$in_iface`. Values are the aggregate's own
//! (an address not in the aggregate is `null`), addresses with `.` and `:` turned into `_`
//! (pmacct's `escape_ip_uscores`).
//!
//! A variable is `$` then letters, digits and `_`, a trailing `_` not part of it (pmacct's
//! tokenizer). pmacct leaves an unknown variable in the name as it is; here it is a config error
//! (no broker accepts `$` in a topic, so the name could never work).

use std::net::IpAddr;

use crate::aggregate::{Primitive, PrimitiveSet};
use crate::record::FlowFields;

/// Which variables a name may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// `kafka_topic`, `amqp_routing_key`.
    Topic,
    /// `kafka_partition_key`.
    PartitionKey,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    PeerSrcIp,
    Tag,
    Tag2,
    PostTag,
    PostTag2,
    SrcHost,
    DstHost,
    SrcPort,
    DstPort,
    Proto,
    InIface,
}

impl Var {
    fn parse(name: &str, kind: NameKind) -> Option<Var> {
        let v = match name {
            "peer_src_ip" => Var::PeerSrcIp,
            "tag" => Var::Tag,
            "tag2" => Var::Tag2,
            "post_tag" => Var::PostTag,
            "post_tag2" => Var::PostTag2,
            _ if kind == NameKind::Topic => return None,
            "src_host" => Var::SrcHost,
            "dst_host" => Var::DstHost,
            "src_port" => Var::SrcPort,
            "dst_port" => Var::DstPort,
            "proto" => Var::Proto,
            "in_iface" => Var::InIface,
            _ => return None,
        };
        Some(v)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A name with its variables found; [`DynName::expand`] fills them per aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynName {
    parts: Vec<Part>,
}

/// The values of `post_tag` / `post_tag2` (0 when unset, as pmacct prints them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PostTags {
    pub tag: u64,
    pub tag2: u64,
}

/// The variables a name of `kind` may hold, for error messages.
pub fn supported(kind: NameKind) -> &'static str {
    match kind {
        NameKind::Topic => "$peer_src_ip, $tag, $tag2, $post_tag, $post_tag2",
        NameKind::PartitionKey => {
            "$peer_src_ip, $tag, $tag2, $post_tag, $post_tag2, $src_host, $dst_host, $src_port, \
             $dst_port, $proto, $in_iface"
        }
    }
}

impl DynName {
    /// Finds the variables in `name`; `Err` names the first unsupported one (with its `$`).
    pub fn parse(name: &str, kind: NameKind) -> Result<DynName, String> {
        let mut parts = Vec::new();
        let mut rest = name;
        while let Some(i) = rest.find('$') {
            if i > 0 {
                parts.push(Part::Text(rest[..i].to_string()));
            }
            let after = &rest[i + 1..];
            let mut len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if after[..len].ends_with('_') {
                len -= 1; // `$tag_$tag2`, `$tag_.x`: a trailing `_` is text
            }
            let var =
                Var::parse(&after[..len], kind).ok_or_else(|| format!("${}", &after[..len]))?;
            parts.push(Part::Var(var));
            rest = &after[len..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(DynName { parts })
    }

    /// True when the name has variables (it differs per aggregate).
    pub fn is_dynamic(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var(_)))
    }

    /// The name for aggregate `k` of a plugin aggregating `set`.
    pub fn expand(&self, set: PrimitiveSet, k: &FlowFields, post: PostTags) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    let host = |on: bool, ip: IpAddr| {
                        if on { ip.to_string().replace(['.', ':'], "_") } else { "null".into() }
                    };
                    let s = match v {
                        Var::PeerSrcIp => host(set.contains(Primitive::PeerSrcIp), k.peer_src_ip),
                        Var::Tag => k.tag.to_string(),
                        Var::Tag2 => k.tag2.to_string(),
                        Var::PostTag => post.tag.to_string(),
                        Var::PostTag2 => post.tag2.to_string(),
                        Var::SrcHost => host(set.contains(Primitive::SrcHost), k.src_ip),
                        Var::DstHost => host(set.contains(Primitive::DstHost), k.dst_ip),
                        Var::SrcPort => k.src_port.to_string(),
                        Var::DstPort => k.dst_port.to_string(),
                        Var::Proto => k.proto.to_string(),
                        Var::InIface => k.in_iface.to_string(),
                    };
                    out.push_str(&s);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_as_pmacct() {
        let set = PrimitiveSet::parse("peer_src_ip,src_host,tag").unwrap();
        let k = FlowFields {
            peer_src_ip: IpAddr::from([192, 0, 2, 7]),
            src_ip: "2001:db8::1".parse().unwrap(),
            tag: 42,
            tag2: 0,
            src_port: 443,
            ..FlowFields::default()
        };
        let post = PostTags { tag: 5, tag2: 6 };
        let t =
            DynName::parse("flows.$peer_src_ip.$tag.$tag2_$post_tag-$post_tag2", NameKind::Topic)
                .unwrap();
        assert!(t.is_dynamic());
        assert_eq!(t.expand(set, &k, post), "flows.192_0_2_7.42.0_5-6");
        let p = DynName::parse("$src_host:$src_port/$dst_host", NameKind::PartitionKey).unwrap();
        assert_eq!(p.expand(set, &k, post), "2001_db8__1:443/null");
        assert_eq!(DynName::parse("$src_host", NameKind::Topic), Err("$src_host".into()));
        assert_eq!(DynName::parse("x.$tagz", NameKind::Topic), Err("$tagz".into()));
        let plain = DynName::parse("pmacct.acct", NameKind::Topic).unwrap();
        assert!(!plain.is_dynamic());
        assert_eq!(plain.expand(set, &k, post), "pmacct.acct");
        let unaggregated = PrimitiveSet::parse("src_host").unwrap();
        let t = DynName::parse("acct_$peer_src_ip", NameKind::Topic).unwrap();
        assert_eq!(t.expand(unaggregated, &k, post), "acct_null");
    }
}
