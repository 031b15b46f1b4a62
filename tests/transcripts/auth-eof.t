rc: 1

S: +OK pop3d ready
C: AUTH PLAIN
S: +\x20
