//! Capture file reader (classic pcap and pcapng).
