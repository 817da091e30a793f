//! Any bytes as a BGP message (UPDATE bodies under every context flag combination), with the
//! pmacct formatters applied to what decodes: must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmacct_user::decode::bgp::{
    AfiSafi, DecodeContext, Message, PathAttr, Update, format, parse_message,
};

fuzz_target!(|data: &[u8]| {
    let Some((flags, rest)) = data.split_first() else { return };
    let mut ctx = DecodeContext { four_octet_as: flags & 1 != 0, add_path: Vec::new() };
    for (bit, af) in
        [(2u8, AfiSafi::IPV4_UNICAST), (4, AfiSafi::IPV6_UNICAST), (8, AfiSafi::new(1, 128))]
    {
        ctx.set_add_path(af, flags & bit != 0);
    }
    let _ = parse_message(rest, &ctx);
    if let Ok(u) = Update::parse_body(rest, &ctx) {
        if let Some(p) = u.as_path(&ctx) {
            let _ = format::as_path(&p);
        }
        for a in &u.attributes {
            match &a.value {
                PathAttr::Communities(c) => drop(format::communities(c, false)),
                PathAttr::ExtCommunities(e) => drop(format::ext_communities(e, false)),
                PathAttr::LargeCommunities(l) => drop(format::large_communities(l)),
                _ => {}
            }
        }
        let _ = (u.announced(), u.withdrawn_routes(), u.is_end_of_rib(), u.aggregator());
    }
    if let Ok((Message::Open(o), _)) = parse_message(rest, &ctx) {
        let _ = (o.asn(), o.add_paths(), o.multiprotocol());
    }
});
