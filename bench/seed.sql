-- Benchmark volume on top of the demo data: :n participants with full records, final guidance
-- summaries and sent handovers spread over 300 municipalities (one municipality_staff user each),
-- and :audit audit rows. Templates (record parts, a real file snapshot) come from the demo data,
-- so sizes are realistic. Usage: psql -v n=10000 -v audit=1000000 -f bench/seed.sql
\set ON_ERROR_STOP on
SET synchronous_commit = off;

CREATE TEMP TABLE t AS
SELECT
  (SELECT id FROM organisations WHERE kind = 'reception_centre' AND name LIKE '%Kristiansand') AS krs,
  (SELECT id FROM organisations WHERE kind = 'reception_centre' AND name LIKE '%Steinkjer') AS stj,
  (SELECT id FROM organisations WHERE kind = 'career_centre' AND name LIKE '%Agder') AS agder,
  (SELECT id FROM users WHERE email = 'ansatt.mottak-kristiansand@demo.no') AS krs_staff,
  (SELECT password_hash FROM users WHERE email = 'ansatt.mottak-kristiansand@demo.no') AS pw,
  (SELECT data FROM competence_mappings LIMIT 1) AS mapping,
  (SELECT data FROM norwegian_training LIMIT 1) AS norwegian,
  (SELECT content FROM guidance_summaries WHERE status = 'final' LIMIT 1) AS guidance,
  (SELECT snapshot::jsonb FROM handover_files ORDER BY octet_length(snapshot::text) DESC LIMIT 1) AS snapshot,
  (SELECT section_hashes FROM handover_files LIMIT 1) AS hashes,
  (SELECT array_agg(id ORDER BY key) FROM catalogue_offerings WHERE retired_at IS NULL) AS offerings;

-- 300 municipalities, one staff user each (the demo password).
CREATE TEMP TABLE munis AS
SELECT row_number() OVER (ORDER BY municipality_number) - 1 AS k, id, municipality_number
FROM organisations WHERE kind = 'municipality' ORDER BY municipality_number LIMIT 300;

INSERT INTO users (id, organisation_id, email, name, role, password_hash, password_changed_at)
SELECT md5('bench-u-' || m.municipality_number)::uuid, m.id, 'bench.kommune-' || m.municipality_number || '@bench.no',
       'Bench Kommune ' || m.municipality_number, 'municipality_staff', t.pw, now()
FROM munis m, t
ON CONFLICT DO NOTHING;

INSERT INTO participants (id, reception_centre_id, given_name, family_name, date_of_birth, duf_number, languages,
                          interpreter_language, arrival_date, programme_start, status, notes, created_by)
SELECT md5('bench-p-' || i)::uuid, CASE WHEN i % 2 = 0 THEN t.krs ELSE t.stj END,
       'Bench' || i, 'Deltaker', date '1990-01-01' + (i % 5000), '2023' || lpad(i::text, 8, '0'),
       '[{"language": "ti", "level": "native"}, {"language": "en", "level": "basic"}]', 'ti',
       current_date - 200 + (i % 150), current_date - 180 + (i % 150), 'settled', '', t.krs_staff
FROM generate_series(1, :n) i, t;

INSERT INTO competence_mappings (participant_id, data, mapped_on, mapped_by, mapped_by_name)
SELECT md5('bench-p-' || i)::uuid, t.mapping, current_date - 100, t.krs_staff, 'Kari Mottaksansatt'
FROM generate_series(1, :n) i, t;

INSERT INTO norwegian_training (participant_id, data)
SELECT md5('bench-p-' || i)::uuid, t.norwegian FROM generate_series(1, :n) i, t;

INSERT INTO programme_elements (id, participant_id, kind, title, start_date, end_date, hours_planned, hours_attended,
                                language_of_instruction, outcome)
SELECT md5('bench-e-' || i || '-' || k)::uuid, md5('bench-p-' || i)::uuid,
       (ARRAY['norwegian', 'social_studies', 'work_oriented'])[k], 'Element ' || k,
       current_date - 170, current_date - 50, 300, 250, 'nb', 'Fullført med godt oppmøte.'
FROM generate_series(1, :n) i, generate_series(1, 3) k;

INSERT INTO placements (id, participant_id, kind, employer_name, start_date, end_date, hours, tasks, employer_feedback)
SELECT md5('bench-pl-' || i)::uuid, md5('bench-p-' || i)::uuid, 'work_practice', 'Kiwi Lundsiden',
       current_date - 120, current_date - 60, 96, 'Varemottak og påfylling.', 'Punktlig og arbeidsom.'
FROM generate_series(1, :n) i;

INSERT INTO guidance_summaries (id, participant_id, career_centre_id, author_name, status, content, finalised_at)
SELECT md5('bench-g-' || i)::uuid, md5('bench-p-' || i)::uuid, t.agder, 'Vilde Veileder', 'draft', t.guidance, NULL
FROM generate_series(1, :n) i, t;

INSERT INTO guidance_pathway_steps (summary_id, position, offering_id, offering_version, reason)
SELECT md5('bench-g-' || i)::uuid, k, t.offerings[1 + (i + k) % array_length(t.offerings, 1)], 1, 'Passer deltakerens mål.'
FROM generate_series(1, :n) i, generate_series(0, 1) k, t;

-- Steps can only be added to drafts; then they become final.
UPDATE guidance_summaries SET status = 'final', finalised_at = now() WHERE author_name = 'Vilde Veileder' AND status = 'draft' AND id IN (SELECT md5('bench-g-' || i)::uuid FROM generate_series(1, :n) i);

INSERT INTO settlements (participant_id, municipality_id, settlement_date, contacts)
SELECT md5('bench-p-' || i)::uuid, m.id, current_date + (i % 60), '[]'
FROM generate_series(1, :n) i JOIN munis m ON m.k = i % 300;

INSERT INTO consents (id, participant_id, sections, given_on, method, language, interpreter_present, recorded_by_name)
SELECT md5('bench-c-' || i)::uuid, md5('bench-p-' || i)::uuid, ARRAY['guidance_summary'], current_date - 10,
       'written_signed', 'ti', true, 'Kari Mottaksansatt'
FROM generate_series(1, :n) i;

INSERT INTO handovers (id, reference, participant_id, reception_centre_id, municipality_id, state,
                       participant_display_name, settlement_date, latest_file_version, sent_at,
                       recipient_opened_version, created_by)
SELECT md5('bench-h-' || i)::uuid, 'HB-' || lpad(i::text, 7, '0'), md5('bench-p-' || i)::uuid,
       CASE WHEN i % 2 = 0 THEN t.krs ELSE t.stj END, m.id,
       (ARRAY['sent', 'received', 'accepted'])[1 + i % 3], 'Bench' || i || ' Deltaker', current_date + (i % 60), 1,
       now() - make_interval(secs => i), CASE WHEN i % 3 = 0 THEN 0 ELSE 1 END, t.krs_staff
FROM generate_series(1, :n) i JOIN munis m ON m.k = i % 300, t;

INSERT INTO handover_files (handover_id, file_version, snapshot, section_hashes, sent_by)
SELECT md5('bench-h-' || i)::uuid, 1,
       jsonb_set(t.snapshot, '{sections,0,content,participant,given_name}', to_jsonb('Bench' || i)),
       t.hashes, t.krs_staff
FROM generate_series(1, :n) i, t;

INSERT INTO handover_transitions (handover_id, from_state, to_state, event, actor_user_id, actor_name, actor_org_id)
SELECT md5('bench-h-' || i)::uuid, 'draft', 'sent', 'send', t.krs_staff, 'Kari Mottaksansatt', t.krs
FROM generate_series(1, :n) i, t;

INSERT INTO audit_log (at, actor_user_id, actor_org_id, actor_role, action, target_type, target_id, outcome, request_id, client_addr)
SELECT now() - make_interval(secs => g), t.krs_staff, t.krs, 'centre_staff',
       (ARRAY['participant.read', 'participant.list', 'programme_element.update', 'handover.file_read'])[1 + g % 4],
       'participant', md5('bench-p-' || (1 + g % :n))::uuid, 'success', md5(g::text), '127.0.0.1'
FROM generate_series(1, :audit) g, t;

ANALYZE;
SELECT 'seeded: participants=' || (SELECT count(*) FROM participants) || ' handovers=' || (SELECT count(*) FROM handovers)
       || ' audit_rows=' || (SELECT count(*) FROM audit_log) || ' avg_file_bytes='
       || (SELECT avg(octet_length(snapshot::text))::int FROM handover_files);
