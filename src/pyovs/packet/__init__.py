"""pyovs.packet: see ../shared/DESIGN.md, 'The house'."""
