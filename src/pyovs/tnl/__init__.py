"""pyovs.tnl: see ../shared/DESIGN.md, 'The house'."""
