args: --users no-such-users-file
mintime: 0.95

S: +OK pop3d ready
@login me
S: -ERR [SYS/TEMP] try again later
C: QUIT
S: +OK bye
