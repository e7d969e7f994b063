"""LEA mode (`caaspp-book lea`): an LEA's confidential internal book from its Student Score Data File."""
