mintime: 0.95

S: +OK pop3d ready
C: AUTH PLAIN
S: +\x20
C: \{bm5u*85}AG\{5ubm*84}5ubg\{BwcH*85}A=
S: -ERR [AUTH] authentication failed
C: QUIT
S: +OK bye
