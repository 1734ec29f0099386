import type { NextFunction, Request, Response, Router } from "express";

import { type Callees, parseCalleeSpec } from "./callees.js";
import { parseParticipantSpec } from "./meeting-spec.js";
import { describeMeeting, type EmulatedMeeting, MeetingNotFoundError, type Meetings } from "./meetings.js";

export interface MeetingControlOptions {
  meetings: Meetings;
  callees: Callees;
  /** Creates a meeting from a POST /emulator/meetings body (GraphEmulator.createMeeting). */
  createMeeting: (body: unknown) => unknown;
}

/**
 * Control routes for emulated meetings (/emulator/meetings...) and callees (/emulator/users),
 * see docs/meetings.md. A wrong body is a 400 naming the field, an unknown meeting or
 * participant a 404, both in the control API's error shape.
 */
export function addMeetingControlRoutes(router: Router, options: MeetingControlOptions): void {
  const { meetings, callees } = options;
  const wrap =
    (fn: (req: Request, res: Response) => unknown) => (req: Request, res: Response, next: NextFunction) => {
      try {
        const result = fn(req, res);
        if (!res.headersSent) res.json(result ?? {});
      } catch (error) {
        if (error instanceof MeetingNotFoundError) {
          res.status(404).json({ error: { code: "NotFound", message: error.message } });
          return;
        }
        next(error);
      }
    };
  const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
  const meetingOf = (req: Request): EmulatedMeeting => {
    const id = String(req.params.id);
    const meeting = meetings.get(id);
    if (!meeting) throw new MeetingNotFoundError(`no meeting ${id}`);
    return meeting;
  };

  router.post(
    "/meetings",
    wrap((req, res) => {
      const created = options.createMeeting(req.body);
      res.status(201);
      return created;
    }),
  );
  router.get(
    "/meetings/:id",
    wrap((req) => describeMeeting(meetingOf(req))),
  );
  router.post(
    "/meetings/:id/admit",
    wrap((req) => ({ admitted: meetings.admit(meetingOf(req)) })),
  );
  router.post(
    "/meetings/:id/participants",
    wrap((req, res) => {
      const meeting = meetingOf(req);
      const participant = meetings.addParticipant(meeting, parseParticipantSpec(body(req), ""));
      res.status(201);
      return { id: participant.id, sourceId: String(participant.sourceId), state: participant.state };
    }),
  );
  router.post(
    "/meetings/:id/participants/:pid/leave",
    wrap((req) => meetings.leave(meetingOf(req), String(req.params.pid))),
  );
  router.post(
    "/meetings/:id/participants/:pid/mute",
    wrap((req) => meetings.setMuted(meetingOf(req), String(req.params.pid), true)),
  );
  router.post(
    "/meetings/:id/participants/:pid/unmute",
    wrap((req) => meetings.setMuted(meetingOf(req), String(req.params.pid), false)),
  );
  router.post(
    "/meetings/:id/remove-bot",
    wrap((req) => ({ removed: meetings.removeBots(meetingOf(req)) })),
  );
  router.post(
    "/meetings/:id/end",
    wrap((req) => {
      meetings.end(meetingOf(req));
    }),
  );
  router.post(
    "/users",
    wrap((req, res) => {
      const spec = parseCalleeSpec(req.body);
      callees.register(spec);
      res.status(201);
      return spec;
    }),
  );
  router.get(
    "/users",
    wrap(() => ({ value: callees.all() })),
  );
}
