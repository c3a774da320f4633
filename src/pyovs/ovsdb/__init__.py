"""pyovs.ovsdb: see ../shared/DESIGN.md, 'The house'."""
