//! L2–L4 packet header parser (Ethernet, 802.1Q/ad, IPv4, IPv6, TCP, UDP, ICMP, SCTP).
