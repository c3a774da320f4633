"""pyovs.ofproto: see ../shared/DESIGN.md, 'The house'."""
