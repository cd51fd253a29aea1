"""The end-of-run check for card numbers at rest finds what it is meant to find."""

import orkestra_harness as h


def test_the_scanner_finds_a_sent_card_number_in_clear(tmp_path):
    pan = "4111111111111111"
    h.SENT_PANS.add(pan)
    try:
        assert h.find_sent_pans(b"...x" + pan.encode() + b"y...", "file") == [f"file: {pan}"]
        assert h.find_sent_pans(b"4111 1111 1111 1111 sealed:AAAA", "file") == []
    finally:
        h.SENT_PANS.discard(pan)
