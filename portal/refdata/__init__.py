"""Reference data from maintained packages: administrative divisions and statutory holidays."""
