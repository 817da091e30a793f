//! Compact aggregation keys: a plugin's masked [`FlowFields`] packed into [`KEY_BYTES`] bytes.
//!
//! A full `FlowFields` key is ~250 bytes: every lookup compares it field by field and drags
//! four cache lines per table entry. A plugin only keys a few fields, so its tables key on
//! those fields' bytes instead ([`Layout::encode`]); flushing unpacks them ([`Layout::decode`]).
//!
//! Exactness does not depend on the layout being right: `encode` refuses (returns `None`) any key
//! with a non-default value in a field outside the layout, or one whose selected fields do not fit,
//! and the caller then keys that record on the full struct. Every field is self-delimiting
//! (addresses carry a family byte), so the packing is injective and `decode(encode(k)) == k`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::PrimitiveSet;
use crate::record::FlowFields;

/// Bytes of a compact key; room for a 5-tuple of IPv6 addresses plus a few more fields.
pub const KEY_BYTES: usize = 48;

/// A packed key: [`KEY_BYTES`] little-endian bytes in words (compared and hashed word by word,
/// not through `memcmp`); unused bytes are zero.
pub type CompactKey = [u64; KEY_BYTES / 8];

fn to_bytes(k: &CompactKey) -> [u8; KEY_BYTES] {
    let mut out = [0u8; KEY_BYTES];
    for (chunk, w) in out.as_chunks_mut::<8>().0.iter_mut().zip(k) {
        *chunk = w.to_le_bytes();
    }
    out
}

/// Which fields of [`FlowFields`] a plugin keys on (bit `i` = the `i`-th field in declaration
/// order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    fields: u128,
}

struct Writer {
    buf: [u8; KEY_BYTES],
    at: usize,
}

impl Writer {
    fn finish(&self) -> CompactKey {
        let mut k = [0u64; KEY_BYTES / 8];
        for (w, chunk) in k.iter_mut().zip(self.buf.as_chunks::<8>().0) {
            *w = u64::from_le_bytes(*chunk);
        }
        k
    }

    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.at.checked_add(bytes.len()).filter(|e| *e <= KEY_BYTES)?;
        self.buf.get_mut(self.at..end)?.copy_from_slice(bytes);
        self.at = end;
        Some(())
    }

    fn ip(&mut self, ip: &IpAddr) -> Option<()> {
        match ip {
            IpAddr::V4(a) => {
                self.put(&[4])?;
                self.put(&a.octets())
            }
            IpAddr::V6(a) => {
                self.put(&[6])?;
                self.put(&a.octets())
            }
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let (Some(head), Some(rest)) = (self.buf.get(..N), self.buf.get(N..)) {
            out.copy_from_slice(head);
            self.buf = rest;
        }
        out
    }

    fn ip(&mut self) -> IpAddr {
        match self.take::<1>() {
            [6] => IpAddr::V6(Ipv6Addr::from(self.take::<16>())),
            _ => IpAddr::V4(Ipv4Addr::from(self.take::<4>())),
        }
    }
}

/// Generates, from one list of every `FlowFields` field and its kind, the field bitmask of a
/// key, the packing and the unpacking. `decode` builds the struct with a literal naming every
/// field, so a field added to `FlowFields` and not listed here fails to compile.
macro_rules! fields {
    ($($name:ident: $kind:ident),* $(,)?) => {
        /// Bit per field holding a non-default value.
        fn present(f: &FlowFields) -> u128 {
            let mut bits = 0u128;
            let mut i = 0u32;
            $(
                if !fields!(@is_zero $kind, f.$name) {
                    bits |= 1 << i;
                }
                i += 1;
            )*
            let _ = i;
            bits
        }

        /// Every field set to a non-default value: what a primitive set keeps of it is its layout.
        fn probe(v: u8) -> FlowFields {
            FlowFields { $($name: fields!(@probe $kind, v)),* }
        }

        impl Layout {
            /// Packs the fields of the layout; `None` when a field outside it is set or the
            /// selected fields do not fit (the caller keys on the full struct then).
            pub fn encode(&self, f: &FlowFields) -> Option<CompactKey> {
                let mut w = Writer { buf: [0; KEY_BYTES], at: 0 };
                let mut i = 0u32;
                $(
                    if self.fields & (1 << i) != 0 {
                        fields!(@put $kind, w, f.$name);
                    } else if !fields!(@is_zero $kind, f.$name) {
                        return None;
                    }
                    i += 1;
                )*
                let _ = i;
                Some(w.finish())
            }

            /// Packs the layout's fields of an unmasked record: the same key as
            /// `encode(&set.mask(f))` for the set the layout was made from (a mask keeps or
            /// zeroes each field, and the layout is what it keeps), without building the masked
            /// copy nor checking the fields outside the layout. `None` when they do not fit.
            pub fn encode_selected(&self, f: &FlowFields) -> Option<CompactKey> {
                let mut w = Writer { buf: [0; KEY_BYTES], at: 0 };
                let mut bits = self.fields;
                while bits != 0 {
                    let put = PUT.get(bits.trailing_zeros() as usize)?;
                    bits &= bits - 1;
                    put(&mut w, f)?;
                }
                Some(w.finish())
            }

            /// Unpacks a key made by [`Layout::encode`] with this layout.
            pub fn decode(&self, k: &CompactKey) -> FlowFields {
                let mut f = FlowFields::default();
                self.decode_into(k, &mut f);
                f
            }

            /// [`Layout::decode`] into `f`, writing only the layout's fields: the others keep
            /// their values, so `f` must hold defaults there (e.g. a previous key of the same
            /// layout).
            pub fn decode_into(&self, k: &CompactKey, f: &mut FlowFields) {
                let bytes = to_bytes(k);
                let mut r = Reader { buf: &bytes };
                let mut bits = self.fields;
                while bits != 0 {
                    if let Some(take) = TAKE.get(bits.trailing_zeros() as usize) {
                        take(&mut r, f);
                    }
                    bits &= bits - 1;
                }
            }
        }

        /// Per field, in declaration order (= layout bit order): pack it.
        const PUT: &[fn(&mut Writer, &FlowFields) -> Option<()>] = &[$(
            |w: &mut Writer, f: &FlowFields| -> Option<()> {
                fields!(@put $kind, w, f.$name);
                Some(())
            }
        ),*];

        /// Per field, in declaration order: unpack it.
        const TAKE: &[fn(&mut Reader<'_>, &mut FlowFields)] = &[$(
            |r: &mut Reader<'_>, f: &mut FlowFields| f.$name = fields!(@take $kind, r)
        ),*];

        /// `decode` names every field in a struct literal, so a field added to `FlowFields`
        /// and not listed here fails to compile.
        #[allow(dead_code)]
        fn all_fields_listed(f: FlowFields) -> FlowFields {
            FlowFields { $($name: f.$name),* }
        }
    };
    (@is_zero mac, $e:expr) => { $e == [0u8; 6] };
    (@is_zero cc, $e:expr) => { $e == [0u8; 2] };
    (@is_zero ip, $e:expr) => { $e == IpAddr::V4(Ipv4Addr::UNSPECIFIED) };
    (@is_zero $int:ident, $e:expr) => { $e == 0 };
    (@probe mac, $v:ident) => { [$v; 6] };
    (@probe cc, $v:ident) => { [$v; 2] };
    (@probe ip, $v:ident) => { IpAddr::V6(Ipv6Addr::from([$v; 16])) };
    (@probe u8, $v:ident) => { $v };
    (@probe u16, $v:ident) => { u16::from($v) };
    (@probe u32, $v:ident) => { u32::from($v) };
    (@probe u64, $v:ident) => { u64::from($v) };
    (@put mac, $w:ident, $e:expr) => { $w.put(&$e)? };
    (@put cc, $w:ident, $e:expr) => { $w.put(&$e)? };
    (@put ip, $w:ident, $e:expr) => { $w.ip(&$e)? };
    (@put $int:ident, $w:ident, $e:expr) => { $w.put(&$e.to_le_bytes())? };
    (@take mac, $r:ident) => { $r.take::<6>() };
    (@take cc, $r:ident) => { $r.take::<2>() };
    (@take ip, $r:ident) => { $r.ip() };
    (@take $int:ident, $r:ident) => { $int::from_le_bytes($r.take::<{ std::mem::size_of::<$int>() }>()) };
}

fields! {
    src_mac: mac, dst_mac: mac, vlan: u16, cos: u8, etype: u16,
    src_ip: ip, dst_ip: ip, src_net: ip, dst_net: ip, label: u32, src_mask: u8, dst_mask: u8, src_port: u16, dst_port: u16,
    proto: u8, tos: u8, in_iface: u32, out_iface: u32, src_as: u32, dst_as: u32,
    peer_src_ip: ip, peer_dst_ip: ip, sampling_rate: u32, tag: u64, tag2: u64,
    peer_src_as: u32, peer_dst_as: u32, local_pref: u32, med: u32,
    as_path: u32, std_comm: u32, ext_comm: u32, lrg_comm: u32, src_as_path: u32, src_std_comm: u32,
    src_ext_comm: u32, src_lrg_comm: u32, src_local_pref: u32, src_med: u32, src_roa: u8, dst_roa: u8, out_vlan: u16,
    mpls_label_top: u32, mpls_label_bottom: u32, mpls_stack_depth: u8,
    post_nat_src_ip: ip, post_nat_dst_ip: ip, post_nat_src_port: u16, post_nat_dst_port: u16,
    nat_event: u8, fwd_status: u8, direction: u8,
    timestamp_start: u64, timestamp_end: u64, timestamp_arrival: u64, timestamp_export: u64,
    export_proto_version: u16, export_proto_seqno: u32, export_proto_sysid: u32,
    nexthop: ip,
    class: u32, mpls_vpn_rd: u64, mpls_pw_id: u32,
    custom: u32,
    src_country: cc, dst_country: cc, src_pocode: u32, dst_pocode: u32,
    src_lat: u64, src_lon: u64, dst_lat: u64, dst_lon: u64,
    tunnel_src_mac: mac, tunnel_dst_mac: mac, tunnel_src_ip: ip, tunnel_dst_ip: ip,
    tunnel_proto: u8, tunnel_tos: u8, tunnel_src_port: u16, tunnel_dst_port: u16, vni: u32,
}

impl Layout {
    /// The fields `set` keeps (probed through [`PrimitiveSet::mask`] with two different
    /// all-set records, so a mask that rewrites a value is still seen keeping the field).
    pub fn of(set: PrimitiveSet) -> Layout {
        let fields = present(&set.mask(&probe(0x01))) | present(&set.mask(&probe(0xff)));
        Layout { fields }
    }

    /// This layout plus the custom primitives' field (a plugin keying on some).
    pub fn with_custom(self) -> Layout {
        let f = FlowFields { custom: 1, ..FlowFields::default() };
        Layout { fields: self.fields | present(&f) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::Primitive;

    fn sample(seed: u8) -> FlowFields {
        let mut f = probe(seed);
        f.src_ip = IpAddr::V4(Ipv4Addr::new(10, seed, 0, 1));
        f.peer_src_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        f.nexthop = IpAddr::V6(Ipv6Addr::LOCALHOST);
        f
    }

    #[test]
    fn five_tuple_round_trips_and_is_injective() {
        let set = PrimitiveSet::parse("src_host,dst_host,src_port,dst_port,proto").unwrap();
        let layout = Layout::of(set);
        assert_eq!(layout.fields.count_ones(), 5);
        let mut seen = std::collections::HashMap::new();
        for seed in 1..=40u8 {
            let mut f = set.mask(&sample(seed));
            if seed % 2 == 0 {
                f.dst_ip = IpAddr::V6(Ipv6Addr::from([seed; 16]));
            }
            let k = layout.encode(&f).expect("5-tuple fits");
            assert_eq!(layout.decode(&k), f);
            assert_eq!(seen.insert(k, f), None, "distinct keys pack differently");
        }
        // An IPv4 address and the IPv6 address with the same leading bytes differ.
        let a =
            FlowFields { src_ip: IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), ..FlowFields::default() };
        let mut b = a;
        b.src_ip = IpAddr::V6(Ipv6Addr::from([1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert_ne!(layout.encode(&a), layout.encode(&b));
    }

    #[test]
    fn every_primitive_alone_round_trips() {
        for p in Primitive::ALL {
            let set = PrimitiveSet::from_iter([*p]);
            let layout = Layout::of(set);
            for seed in [1u8, 7, 200] {
                let f = set.mask(&sample(seed));
                match layout.encode(&f) {
                    Some(k) => assert_eq!(layout.decode(&k), f, "{}", p.name()),
                    None => panic!("{} alone does not fit", p.name()),
                }
            }
        }
    }

    #[test]
    fn refuses_fields_outside_the_layout_and_oversized_keys() {
        let layout = Layout::of(PrimitiveSet::parse("src_port").unwrap());
        let mut f = FlowFields { src_port: 80, ..FlowFields::default() };
        assert!(layout.encode(&f).is_some());
        f.proto = 6;
        assert_eq!(layout.encode(&f), None, "a set field outside the layout is refused");

        let wide = PrimitiveSet::parse(
            "src_host,dst_host,peer_src_ip,peer_dst_ip,src_mac,dst_mac,src_port,dst_port",
        )
        .unwrap();
        let layout = Layout::of(wide);
        let mut f = wide.mask(&sample(3));
        f.src_ip = IpAddr::V6(Ipv6Addr::from([3; 16]));
        f.dst_ip = IpAddr::V6(Ipv6Addr::from([4; 16]));
        f.peer_src_ip = IpAddr::V6(Ipv6Addr::from([5; 16]));
        assert_eq!(layout.encode(&f), None, "too wide for a compact key");
        let g = FlowFields { src_port: 1, ..FlowFields::default() };
        assert_eq!(layout.decode(&layout.encode(&g).expect("fits")), g);
    }
}
