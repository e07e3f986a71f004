-- The Ardour test's session steps, run by Ardour's headless Lua interpreter
-- (ardour7-lua) on its dummy backend; tests/lv2/ardour_test.sh drives them. The
-- session has a track per earflow plugin: binaural (mono), separate-stereo (stereo)
-- and separate (mono).
--   EF_STEP=build  load the empty session EF_DIR/EF_NAME (ardour7-new_session), add
--                  the tracks, each with its plugin loaded by URI before the fader, set
--                  the controls named in EF_CONTROLS ("track:Label=value;..."), save.
--   EF_STEP=check  load it again and, per track, print what Ardour shows:
--                  "latency TRACK PLUGIN_LATENCY TRACK_LATENCY" and
--                  "control TRACK LABEL MIN MAX DEFAULT VALUE SCALE_POINTS";
--                  bounce the first EF_FRAMES samples with processing, as the editor's
--                  "Bounce (with processing)" does (through the plugin and the fader,
--                  latency compensated) into "earflow-bounce-TRACK*" in the session's
--                  audio folder, one file per channel: "bounced TRACK"; then load the
--                  presets named in EF_PRESETS ("track:label;...") by label:
--                  "preset TRACK URI LABEL=VALUE ...". Nothing is saved.
-- Any failure prints "error ..." and exits 1.
local dir, name, step = os.getenv("EF_DIR"), os.getenv("EF_NAME"), os.getenv("EF_STEP")
local tracks = {
    {name = "binaural", uri = "urn:earflow:binaural", ins = 1, outs = 2},
    {name = "separate-stereo", uri = "urn:earflow:separate-stereo", ins = 2, outs = 2},
    {name = "separate", uri = "urn:earflow:separate", ins = 1, outs = 1},
}

local function fail(message)
    print("error " .. message)
    os.exit(1)
end

-- The plugin's input controls: Ardour's parameter index (for set_processor_param),
-- its label and its descriptor.
local function input_controls(plugin)
    local list = {}
    for i = 0, plugin:parameter_count() - 1 do
        local port, refs = plugin:nth_parameter(i, true)
        if refs[2] and plugin:parameter_is_input(port) then
            local _, d = plugin:get_parameter_descriptor(port, ARDOUR.ParameterDescriptor())
            list[#list + 1] = {index = i, port = port, label = plugin:parameter_label(port), desc = d[2]}
        end
    end
    return list
end

-- "track:rest;..." entries of an environment variable that name TRACK.
local function entries_for(variable, track)
    local found = {}
    for entry in (os.getenv(variable) or ""):gmatch("[^;]+") do
        local track_name, rest = entry:match("^([^:]+):(.+)$")
        if track_name == track then found[#found + 1] = rest end
    end
    return found
end

if AudioEngine:set_backend("None (Dummy)", "", "") == nil then fail("no dummy backend") end
local session = load_session(dir, name)
if not session then fail("cannot load " .. dir .. "/" .. name) end

if step == "build" then
    for _, t in ipairs(tracks) do
        local track = session:new_audio_track(t.ins, t.outs, nil, 1, t.name,
            ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()
        local proc = ARDOUR.LuaAPI.new_plugin(session, t.uri, ARDOUR.PluginType.LV2, "")
        if proc:isnil() then fail("Ardour does not find " .. t.uri) end
        if track:add_processor_by_index(proc, 0, nil, true) ~= 0 then fail("cannot add " .. t.uri) end
        local controls = input_controls(proc:to_insert():plugin(0))
        for _, setting in ipairs(entries_for("EF_CONTROLS", t.name)) do
            local label, value = setting:match("^([^=]+)=(.+)$")
            local done = false
            for _, c in ipairs(controls) do
                if c.label == label then
                    done = ARDOUR.LuaAPI.set_processor_param(proc, c.index, tonumber(value))
                end
            end
            if not done then fail("cannot set " .. t.name .. " " .. setting) end
        end
    end
    session:save_state("", false, false, false, false, false)
elseif step == "check" then
    local frames = tonumber(os.getenv("EF_FRAMES"))
    for _, t in ipairs(tracks) do
        local track = session:route_by_name(t.name)
        if track:isnil() then fail("no track " .. t.name) end
        local proc = track:nth_plugin(0)
        if proc:isnil() then fail("track " .. t.name .. " has no plugin") end
        local plugin = proc:to_insert():plugin(0)
        print(string.format("latency %s %d %d", t.name, proc:signal_latency(), track:signal_latency()))
        for _, c in ipairs(input_controls(plugin)) do
            local points = 0
            for _ in pairs(ARDOUR.LuaAPI.desc_scale_points(c.desc)) do points = points + 1 end
            print(string.format("control %s %s %.4g %.4g %.4g %.4g %d", t.name,
                c.label:gsub(" ", "_"), c.desc.lower, c.desc.upper, c.desc.normal,
                ARDOUR.LuaAPI.get_processor_param(proc, c.index), points))
        end
        local region = track:to_track():bounce_range(0, frames, ARDOUR.InterThreadInfo(),
            track:main_outs(), false, "earflow-bounce-" .. t.name)
        if region:isnil() then fail("the bounce of " .. t.name .. " made no region") end
        print("bounced " .. t.name)
        -- Presets last (they change the controls): found by label and loaded.
        for _, label in ipairs(entries_for("EF_PRESETS", t.name)) do
            local preset = plugin:preset_by_label(label)
            if not preset then fail("Ardour has no preset '" .. label .. "' for " .. t.name) end
            if not plugin:load_preset(preset) then fail("cannot load " .. preset.uri) end
            local values = {}
            for _, c in ipairs(input_controls(plugin)) do
                values[#values + 1] = string.format("%s=%.4g", c.label:gsub(" ", "_"),
                    ARDOUR.LuaAPI.get_processor_param(proc, c.index))
            end
            print(string.format("preset %s %s %s", t.name, preset.uri, table.concat(values, " ")))
        end
    end
else
    fail("EF_STEP must be build or check")
end
close_session()
