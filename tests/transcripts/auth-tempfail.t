args: --users no-such-users-file
mintime: 0.95

S: +OK pop3d ready
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: -ERR [SYS/TEMP] try again later
C: QUIT
S: +OK bye
