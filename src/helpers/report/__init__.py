"""Stage 3: everything a notebook imports — one LEA's page tables, HTML outputs, charts, LEA-mode sections."""
