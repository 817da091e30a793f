//! pmacctd-style accounting of a capture file (`pcap_savefile`).
