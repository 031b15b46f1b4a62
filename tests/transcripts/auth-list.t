S: +OK pop3d ready
C: AUTH
S: +OK
S: PLAIN
S: LOGIN
S: .
C: QUIT
S: +OK bye
