"""pyovs.netdev: see ../shared/DESIGN.md, 'The house'."""
