"""What plugins provide and how Between calls it: task types and field types, channels, charts,
review figures."""
