//! Reading captures: pcap/pcapng, link layers, decoding (pure). To be written.
