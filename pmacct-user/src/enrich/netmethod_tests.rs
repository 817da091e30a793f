use std::io::Write;

use super::*;

fn resolver(file: &str, net: Option<&str>, asn: Option<&str>, agg: &str) -> NetResolver {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    tmp.write_all(file.as_bytes()).unwrap();
    let cfg = NetworksConfig {
        file: Some(tmp.path().to_path_buf()),
        net: net.map(str::to_string),
        asn: asn.map(str::to_string),
        ..Default::default()
    };
    NetResolver::new(&cfg, PrimitiveSet::parse(agg).unwrap()).unwrap().0.unwrap()
}

fn flow(src: &str, dst: &str, smask: u8, dmask: u8) -> FlowFields {
    FlowFields {
        src_ip: src.parse().unwrap(),
        dst_ip: dst.parse().unwrap(),
        src_mask: smask,
        dst_mask: dmask,
        src_as: 1,
        dst_as: 2,
        ..Default::default()
    }
}

const FILE: &str = "65001,10.0.0.0/8\n65002,10.1.0.0/16\n192.0.2.1,64512_65003,192.168.0.0/16\n";

#[test]
fn file_method_takes_masks_and_ases_from_the_file() {
    let r = resolver(
        FILE,
        Some("file"),
        Some("file"),
        "src_net,dst_net,src_mask,dst_mask,src_as,dst_as,peer_dst_as,peer_dst_ip",
    );
    let mut f = flow("10.1.2.3", "172.16.0.1", 24, 12);
    r.apply(&mut f);
    assert_eq!((f.src_mask, f.src_as), (16, 65002));
    assert_eq!(f.src_net, "10.1.0.0".parse::<IpAddr>().unwrap());
    // Not in the file: mask and AS 0, network 0.0.0.0.
    assert_eq!((f.dst_mask, f.dst_as), (0, 0));
    assert_eq!(f.dst_net, "0.0.0.0".parse::<IpAddr>().unwrap());
    let mut f = flow("10.9.9.9", "192.168.3.4", 0, 0);
    r.apply(&mut f);
    assert_eq!((f.dst_mask, f.dst_as, f.peer_dst_as), (16, 65003, 64512));
    assert_eq!(f.peer_dst_ip, "192.0.2.1".parse::<IpAddr>().unwrap());
}

#[test]
fn netflow_method_keeps_exporter_masks_and_longest_picks_the_longer() {
    let r = resolver(FILE, None, None, "src_net,src_mask,src_as");
    let mut f = flow("10.1.2.3", "172.16.0.1", 24, 12);
    r.apply(&mut f);
    assert_eq!((f.src_mask, f.src_as), (24, 1));
    assert_eq!(f.src_net, "10.1.2.0".parse::<IpAddr>().unwrap());
    let r = resolver(FILE, Some("longest"), Some("longest"), "src_net,src_mask,src_as");
    let mut f = flow("10.1.2.3", "172.16.0.1", 12, 0);
    r.apply(&mut f);
    assert_eq!((f.src_mask, f.src_as), (16, 65002));
    let mut f = flow("10.1.2.3", "172.16.0.1", 24, 0);
    r.apply(&mut f);
    assert_eq!((f.src_mask, f.src_as), (24, 1));
}

#[test]
fn static_mask_and_setup_errors() {
    let cfg = NetworksConfig { mask: Some(20), net: Some("mask".into()), ..Default::default() };
    let set = PrimitiveSet::parse("src_net, src_mask").unwrap();
    let r = NetResolver::new(&cfg, set).unwrap().0.unwrap();
    let mut f = flow("10.1.255.3", "172.16.0.1", 24, 12);
    r.apply(&mut f);
    assert_eq!((f.src_mask, f.src_net), (20, "10.1.240.0".parse::<IpAddr>().unwrap()));
    let cfg = NetworksConfig { net: Some("file".into()), ..Default::default() };
    assert!(matches!(NetResolver::new(&cfg, set), Err(NetSetupError::NoFile(_))));
    let cfg = NetworksConfig { net: Some("igp".into()), ..Default::default() };
    assert!(matches!(NetResolver::new(&cfg, set), Err(NetSetupError::Method(_))));
    let cfg = NetworksConfig { net: Some("bogus".into()), ..Default::default() };
    assert!(matches!(
        NetResolver::new(&cfg, set),
        Err(NetSetupError::Method(MethodError::Unknown(_)))
    ));
    // Defaults and no net primitive: nothing to do.
    let none =
        NetResolver::new(&NetworksConfig::default(), PrimitiveSet::parse("src_host").unwrap());
    assert!(none.unwrap().0.is_none());
}
