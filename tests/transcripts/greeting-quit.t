S: +OK pop3d ready
C: QUIT
S: +OK bye
