"""The widgets of the lrtui app: each renders state it is given and posts messages upward."""
